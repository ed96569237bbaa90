import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderCrds } from './index.ts';

/** `npm run crds`: writes crds/*.yaml from the schema source. test/kube-crds.test.ts fails when they drift. */
const directory = path.join(import.meta.dirname, '../../../crds');
for (const [file, text] of renderCrds()) writeFileSync(path.join(directory, file), text);
process.stdout.write(`wrote ${renderCrds().size} CRDs to crds/\n`);
