import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { endRun, type EndRunContext } from './end-run.ts';
import { findAbandonedRuns, markSilentWorkersOffline } from './sql/workers.ts';

/**
 * Takes back running jobs whose worker stopped sending heartbeats (killed, partitioned, frozen) or whose lease
 * expired, so they run elsewhere within seconds rather than hours. Each is recorded as a `rescued` attempt and
 * goes back to pending at once (its attempt counts: a job that kills its worker every time ends dead). The worker
 * that held it may still be alive: fencing rejects anything it reports later. Any process may reap; SKIP LOCKED
 * shares the work.
 */
export async function reapAbandonedRuns(db: Kysely<Database>, ctx: EndRunContext, staleMs: number, logger: Logger):
  Promise<number> {
  const abandoned = await findAbandonedRuns(db, staleMs, 500);
  let rescued = 0;
  for (const run of abandoned) {
    const fence = { id: run.id, attempt: run.attempts, workerId: run.locked_by };
    const why = run.lease_expired ? 'its lease expired' : `worker ${run.worker_name ?? run.locked_by} stopped sending heartbeats`;
    const end = run.attempts >= run.max_attempts ? { status: 'dead' as const } : { status: 'pending' as const, retryAt: new Date() };
    const result = await endRun(ctx, fence, { queue: run.queue, type: run.type, workerName: run.worker_name,
      startedAt: run.started_at, outcome: 'rescued', error: `rescued: ${why}` }, end);
    if (result.settled) rescued++;
  }
  const offline = await markSilentWorkersOffline(db, staleMs);
  if (rescued > 0 || offline > 0) logger.warn({ rescued, workersOffline: offline }, 'rescued jobs of silent workers');
  return rescued;
}
