import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { pruneAudit } from '../observability/audit-retention.ts';
import { pruneSystemEvents } from '../observability/events-retention.ts';
import type { Logger } from '../observability/logger.ts';
import type { JobEngine } from './engine.ts';
import type { NumberSettings } from './policy.ts';
import { pruneFinishedJobs } from './retention.ts';

const queue = 'maintenance';
const daily = (minute: number) => ({ cron: `${minute} 3 * * *` });

/** The engine's own daily housekeeping: retention of finished jobs, the audit and system events. */
export function defineMaintenance(engine: JobEngine, db: Kysely<Database>, settings: NumberSettings, logger: Logger):
  void {
  engine.defineQueue(queue, { concurrency: 1 });
  const tasks = [
    { type: 'jobs.prune', minute: 10, run: async () => pruneFinishedJobs(db, settings) },
    { type: 'audit.prune', minute: 20, run: async () => ({ deleted: await pruneAudit(db, settings) }) },
    { type: 'system_events.prune', minute: 30, run: async () => ({ deleted: await pruneSystemEvents(db, settings) }) },
  ];
  for (const { type, minute, run } of tasks) {
    engine.defineTask({
      queue, type, timeoutMs: 3_600_000, critical: true,
      handler: async () => logger.info({ type, ...(await run()) }, 'retention pass done'),
    });
    engine.defineSchedule({ name: type, queue, type, cadence: daily(minute) });
  }
}
