import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { recordAudit, systemActor } from '../observability/audit.ts';
import type { Logger } from '../observability/logger.ts';
import type { JobMetrics } from './metrics.ts';
import { isUniqueViolation, settleRun, type EndedRun, type Fence, type RunEnd, type SettleResult } from './sql/settle.ts';
import type { JobStatusListener } from './types.ts';

export interface EndRunContext {
  db: Kysely<Database>;
  logger: Logger;
  metrics?: JobMetrics;
  /** Whether the job type was registered as critical: its death is audited. */
  isCritical(type: string): boolean;
  /** The job type's own record of a job ended for good that its handler did not report (TaskDefinition.onStatusChange). */
  statusChanged?: JobStatusListener;
}

const jobEngineActor = systemActor('job-engine');

/** A run that did not complete, as its worker or the reaper ends it. */
export type EndingRun = EndedRun & {
  queue: string;
  type: string;
  /** The handler threw a ReportedJobError: a death is logged at info, the handler having reported it. */
  reported?: boolean;
};

/**
 * Ends a run that did not complete (failed, timed out, rescued, cancelled, aborted at shutdown): one transaction
 * settles the job and, when a critical job dies, writes the audit entry with it. A concurrent enqueue of the same
 * key can make the transaction hit the pending-key index; it is simply run again and then merges.
 */
export async function endRun(ctx: EndRunContext, fence: Fence, run: EndingRun, end: RunEnd): Promise<SettleResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await ctx.db.transaction().execute(async (trx) => {
        const settled = await settleRun(trx, fence, run, end);
        if (settled.settled && end.status !== 'pending' && !run.reported) {
          await ctx.statusChanged?.(trx, { jobId: fence.id, queue: run.queue, type: run.type, status: end.status,
            attempts: fence.attempt, error: run.error });
        }
        if (settled.settled && end.status === 'dead' && ctx.isCritical(run.type)) {
          await recordAudit(trx, {
            actor: jobEngineActor, category: 'job', action: 'job.dead',
            details: { job_id: fence.id, queue: run.queue, type: run.type, attempts: fence.attempt, error: run.error },
          });
        }
        return settled;
      });
      report(ctx, fence, run, end, result);
      return result;
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 5) throw error;
    }
  }
}

function report(ctx: EndRunContext, fence: Fence, run: EndingRun, end: RunEnd, result: SettleResult): void {
  const fields = { jobId: fence.id, queue: run.queue, type: run.type, attempt: fence.attempt, error: run.error };
  if (!result.settled) {
    ctx.metrics?.rejected(run.queue);
    ctx.logger.warn(fields, 'job run ended but the job was no longer this worker\'s (rescued or cancelled)');
    return;
  }
  if (run.outcome === 'rescued') ctx.metrics?.rescued(run.queue);
  else if (run.outcome === 'failed' || run.outcome === 'dead') ctx.metrics?.failed(run.queue, run.type);
  if (end.status === 'pending') {
    ctx.logger.info({ ...fields, retryAt: end.retryAt, mergedInto: result.mergedInto }, 'job run failed; retrying later');
  } else if (end.status === 'dead') {
    ctx.metrics?.dead(run.queue, run.type);
    if (run.reported) ctx.logger.info(fields, 'job is dead: its last attempt failed (reported by its handler)');
    else ctx.logger.error(fields, 'job is dead: its last attempt failed');
  } else {
    ctx.logger.warn({ ...fields, mergedInto: result.mergedInto }, 'job ended failed');
  }
}
