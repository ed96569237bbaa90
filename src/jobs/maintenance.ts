import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { pruneAudit } from '../observability/audit-retention.ts';
import { pruneSystemEvents } from '../observability/events-retention.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import type { JobEngine } from './engine.ts';
import type { NumberSettings } from './policy.ts';
import { expireEndedSubscriptions } from '../tenancy/subscriptions.ts';
import { verifyTotals } from '../tenancy/totals.ts';
import { pruneIdempotencyKeys } from '../api/idempotency.ts';
import { pruneFinishedJobs } from './retention.ts';
import { workerComponent } from './worker.ts';

const queue = 'maintenance';
const daily = (minute: number) => ({ cron: `${minute} 3 * * *` });

/**
 * Daily housekeeping: retention of finished jobs, the audit, system events and idempotency keys; expiry of
 * subscriptions past their end, and a check that every tenant's resource totals equal its subscriptions.
 */
export function defineMaintenance(engine: JobEngine, db: Kysely<Database>, settings: NumberSettings,
  processLogger: Logger): void {
  const logger = componentLogger(processLogger, workerComponent(queue));
  engine.defineQueue(queue, { concurrency: 1 });
  const tasks = [
    { type: 'jobs.prune', minute: 10, run: async () => pruneFinishedJobs(db, settings) },
    { type: 'audit.prune', minute: 20, run: async () => ({ deleted: await pruneAudit(db, settings) }) },
    { type: 'system_events.prune', minute: 30, run: async () => ({ deleted: await pruneSystemEvents(db, settings) }) },
    { type: 'idempotency_keys.prune', minute: 35, run: async () => ({ deleted: await pruneIdempotencyKeys(db) }) },
    { type: 'subscriptions.expire', minute: 40, run: async () => {
      const expired = await expireEndedSubscriptions(db);
      const mismatches = await verifyTotals(db);
      // Totals are kept in the same transaction as every change, so a mismatch is a bug worth an error event.
      if (mismatches.length > 0) logger.error({ mismatches }, 'tenant resource totals differ from their subscriptions');
      return { expired, totals_mismatches: mismatches.length };
    } },
  ];
  for (const { type, minute, run } of tasks) {
    engine.defineTask({
      queue, type, timeoutMs: 3_600_000, critical: true,
      handler: async () => logger.info({ type, ...(await run()) }, 'maintenance pass done'),
    });
    engine.defineSchedule({ name: type, queue, type, cadence: daily(minute) });
  }
}
