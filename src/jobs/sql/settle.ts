import { sql, type Kysely } from 'kysely';
import type { Database, JobAttemptOutcome } from '../../db/schema.ts';
import { jobsChannel } from '../types.ts';

/** The claim's fencing token: a run may settle its job only while the job still carries it. */
export interface Fence {
  id: number;
  attempt: number;
  workerId: string;
}

/** How a run that did not complete ends its job. */
export type RunEnd =
  | { status: 'pending'; retryAt: Date }
  | { status: 'dead' | 'failed' };

export interface EndedRun {
  workerName: string | null;
  startedAt: Date;
  outcome: JobAttemptOutcome;
  error: string;
}

export type SettleResult =
  | { settled: true; job: { id: number; queue: string; type: string; key: string | null }; mergedInto?: number }
  | { settled: false };

/**
 * Settles a failed, rescued or cancelled run inside the caller's transaction: records the attempt, then puts the
 * job back to pending for a retry or ends it. A keyed job whose key got a new pending job while it ran merges its
 * retry into that job (earliest time, the larger failure count) and ends `failed`, pointing at it: there is never
 * a second pending job per key. Fenced: a run that no longer owns its job changes nothing.
 */
export async function settleRun(trx: Kysely<Database>, fence: Fence, run: EndedRun, end: RunEnd):
  Promise<SettleResult> {
  const job = await trx.selectFrom('jobs').select(['id', 'queue', 'type', 'key', 'priority'])
    .where('id', '=', fence.id).where('attempts', '=', fence.attempt).where('locked_by', '=', fence.workerId)
    .where('status', '=', 'running').forUpdate().executeTakeFirst();
  if (!job) return { settled: false };

  await trx.insertInto('job_attempts').values({
    job_id: fence.id, attempt: fence.attempt, worker_id: fence.workerId, worker_name: run.workerName,
    started_at: run.startedAt, finished_at: sql<Date>`now()`, outcome: run.outcome, error: run.error,
  }).execute();

  if (end.status !== 'pending') {
    await trx.updateTable('jobs').where('id', '=', job.id)
      .set({ status: end.status, completed_at: sql<Date>`now()`, updated_at: sql<Date>`now()`, last_error: run.error,
        lease_expires_at: null })
      .execute();
    return { settled: true, job };
  }
  const mergedInto = await requeue(trx, job, { retryAt: end.retryAt, attempts: fence.attempt, lastError: run.error });
  return { settled: true, job, mergedInto };
}

/**
 * Hands a claimed job that never started back to the queue, as if it had not been claimed (drain, expired
 * prefetch). Fenced like settleRun; returns false when the job was no longer this worker's.
 */
export async function releaseClaim(trx: Kysely<Database>, fence: Fence): Promise<boolean> {
  const job = await trx.selectFrom('jobs').select(['id', 'queue', 'type', 'key', 'priority', 'last_error'])
    .where('id', '=', fence.id).where('attempts', '=', fence.attempt).where('locked_by', '=', fence.workerId)
    .where('status', '=', 'running').forUpdate().executeTakeFirst();
  if (!job) return false;
  await requeue(trx, job, { retryAt: new Date(), attempts: fence.attempt - 1, lastError: job.last_error });
  return true;
}

/** Puts a running job back to pending, or merges it into its key's pending job. Returns the id merged into. */
async function requeue(trx: Kysely<Database>, job: { id: number; queue: string; key: string | null; priority: number },
  { retryAt, attempts, lastError }: { retryAt: Date; attempts: number; lastError: string | null }):
  Promise<number | undefined> {
  const sibling = job.key === null ? undefined : await trx.selectFrom('jobs').select('id')
    .where('queue', '=', job.queue).where('key', '=', job.key).where('status', '=', 'pending')
    .forUpdate().executeTakeFirst();
  if (sibling) {
    await trx.updateTable('jobs').where('id', '=', sibling.id).set({
      scheduled_at: sql<Date>`least(scheduled_at, ${retryAt}::timestamptz)`,
      attempts: sql<number>`greatest(attempts, ${attempts})`,
      priority: sql<number>`greatest(priority, ${job.priority})`,
      updated_at: sql<Date>`now()`,
    }).execute();
    await trx.updateTable('jobs').where('id', '=', job.id).set({
      status: 'failed', completed_at: sql<Date>`now()`, updated_at: sql<Date>`now()`, lease_expires_at: null,
      attempts, last_error: `${lastError ?? 'released'} (continued as job ${sibling.id}, the pending job of its key)`,
    }).execute();
    await notifyDue(trx, job.queue, retryAt);
    return sibling.id;
  }
  await trx.updateTable('jobs').where('id', '=', job.id).set({
    status: 'pending', scheduled_at: retryAt, attempts, locked_by: null, lease_expires_at: null,
    last_error: lastError, updated_at: sql<Date>`now()`,
  }).execute();
  await notifyDue(trx, job.queue, retryAt);
  return undefined;
}

async function notifyDue(trx: Kysely<Database>, queue: string, at: Date): Promise<void> {
  const payload = at.getTime() > Date.now() ? `${queue} ${at.getTime()}` : queue;
  await sql`select pg_notify(${jobsChannel}, ${payload})`.execute(trx);
}

/** PostgreSQL's unique_violation: a concurrent enqueue took the key's pending slot; the caller retries. */
export const isUniqueViolation = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
