import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderCrds } from './index.ts';

/**
 * `npm run crds`: writes the CRDs from the schema source to crds/ (for `kubectl apply -f crds/`) and to the Helm
 * chart's crds/ (installed with the chart). test/kube-crds.test.ts fails when either drifts.
 */
const root = path.join(import.meta.dirname, '../../..');
const crdDirectories = ['crds', 'helm/cloudpods/crds'];
for (const directory of crdDirectories) {
  mkdirSync(path.join(root, directory), { recursive: true });
  for (const [file, text] of renderCrds()) writeFileSync(path.join(root, directory, file), text);
}
process.stdout.write(`wrote ${renderCrds().size} CRDs to ${crdDirectories.join(' and ')}\n`);
