/**
 * A worker process for job engine tests: runs a JobEngine named argv[3] against the database argv[2], working the
 * queue argv[4] with concurrency 1 and prefetch 2. Its handler prints `started <id>` and either waits until aborted
 * (payload `{ hang: true }`) or finishes after `payload.ms` and prints `finished <id>`. SIGTERM drains the engine
 * (as `cloudpods serve` does), prints `stopped` and exits 0.
 */
import { openDatabase } from '../../src/db/database.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { JobEngine } from '../../src/jobs/engine.ts';
import { fakeSettings, quickSettings } from './jobs.ts';

const [url, name, queue] = process.argv.slice(2) as [string, string, string];
const db = openDatabase({ url, poolMax: 3 });
const engine = new JobEngine({ db, databaseUrl: url, name, logger: createLogger({ level: 'silent' }),
  settings: fakeSettings(quickSettings) });
engine.defineQueue(queue, { concurrency: 1, prefetch: 2 });
engine.defineTask({
  queue, type: 'work',
  handler: async (job, { signal }) => {
    process.stdout.write(`started ${job.id}\n`);
    await new Promise<void>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason));
      if (!job.payload.hang) setTimeout(resolve, Number(job.payload.ms ?? 0));
    });
    process.stdout.write(`finished ${job.id}\n`);
  },
});
await engine.start();
process.stdout.write(`ready ${engine.workerIds.get(queue)}\n`);
process.on('SIGTERM', async () => {
  await engine.stop();
  await db.destroy();
  process.stdout.write('stopped\n');
  process.exit(0);
});
