import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import type { JobEngine } from './engine.ts';
import type { NumberSettings } from './policy.ts';
import { pruneFinishedJobs } from './retention.ts';
import { workerComponent } from './worker.ts';

/** The queue of the daily housekeeping passes, one job at a time. */
export const maintenanceQueue = 'maintenance';

/**
 * A daily housekeeping pass a module owns (its retention, expiry, consistency checks): the module says what to
 * run, the engine runs it once a day. The composition root (src/system.ts) registers each module's passes, so the
 * engine knows none of them.
 */
export interface MaintenanceTask {
  /** The job type and the schedule's name, such as `audit.prune`. */
  type: string;
  /** When it runs: this minute past 03:00 UTC. Passes get minutes of their own so they do not overlap. */
  minute: number;
  /** Does the pass; what it returns is logged with "maintenance pass done". */
  run: (logger: Logger) => Promise<Record<string, unknown>>;
}

/** Registers a daily pass on the maintenance queue (critical: a dead one is audited). Before engine.start(). */
export function defineMaintenanceTask(engine: JobEngine, processLogger: Logger, { type, minute, run }: MaintenanceTask)
  : void {
  const logger = componentLogger(processLogger, workerComponent(maintenanceQueue));
  engine.defineQueue(maintenanceQueue, { concurrency: 1 });
  engine.defineTask({
    queue: maintenanceQueue, type, timeoutMs: 3_600_000, critical: true,
    handler: async () => logger.info({ type, ...(await run(logger)) }, 'maintenance pass done'),
  });
  engine.defineSchedule({ name: type, queue: maintenanceQueue, type, cadence: { cron: `${minute} 3 * * *` } });
}

/** The engine's own housekeeping: finished jobs past `jobs.retention_days`. */
export const jobRetentionTask = (db: Kysely<Database>, settings: NumberSettings): MaintenanceTask => ({
  type: 'jobs.prune', minute: 10, run: async () => ({ ...(await pruneFinishedJobs(db, settings)) }),
});
