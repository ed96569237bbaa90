/**
 * A second CloudPods process for settings tests: runs its own SystemSettingsService against the database given as
 * argv[2] and prints `{"value": …, "at": <epoch ms>}` each time the value of the setting argv[3] changes.
 */
import { openDatabase } from '../../src/db/database.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { SystemSettingsService } from '../../src/settings/service.ts';

const [url, name] = process.argv.slice(2) as [string, string];
const db = openDatabase({ url, poolMax: 2 });
const settings = new SystemSettingsService({ db, databaseUrl: url, logger: createLogger({ level: 'silent' }) });
await settings.start();
let last: unknown = Symbol('unset');
const timer = setInterval(async () => {
  const value = await settings.getNumber(name);
  if (value !== last) {
    last = value;
    process.stdout.write(`${JSON.stringify({ value, at: Date.now() })}\n`);
  }
}, 10);
process.on('SIGTERM', async () => {
  clearInterval(timer);
  await settings.stop();
  await db.destroy();
  process.exit(0);
});
