import { sql, type Kysely } from 'kysely';
import type { Database, JobAttemptRow, JobRow, JobStatus, JobWorkerRow } from '../db/schema.ts';
import { recordAudit, type Actor } from '../observability/audit.ts';
import { jobCancelChannel, jobsChannel, type JobStatusListener } from './types.ts';

/** Admin reads and actions on jobs (spec 6; the admin API and the System Health page). */

export interface JobFilter {
  queue?: string;
  status?: JobStatus;
  type?: string;
}

export async function listJobs(db: Kysely<Database>, filter: JobFilter, limit: number, offset: number):
  Promise<{ jobs: JobRow[]; total: number }> {
  let query = db.selectFrom('jobs');
  if (filter.queue) query = query.where('queue', '=', filter.queue);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.type) query = query.where('type', '=', filter.type);
  const [jobs, count] = await Promise.all([
    query.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { jobs, total: Number(count.total) };
}

export type AttemptView = Pick<JobAttemptRow, 'attempt' | 'worker_id' | 'worker_name' | 'started_at' |
  'finished_at' | 'outcome' | 'error'>;

/** A job with its attempts, the one running now included (recorded only when it ends). */
export async function getJob(db: Kysely<Database>, id: number):
  Promise<{ job: JobRow; attempts: AttemptView[] } | undefined> {
  const job = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!job) return undefined;
  const attempts: AttemptView[] = await db.selectFrom('job_attempts')
    .select(['attempt', 'worker_id', 'worker_name', 'started_at', 'finished_at', 'outcome', 'error'])
    .where('job_id', '=', id).orderBy('attempt').execute();
  if (job.status === 'running' && job.started_at) {
    const worker = job.locked_by ? await db.selectFrom('job_workers').select('name')
      .where('id', '=', job.locked_by).executeTakeFirst() : undefined;
    attempts.push({ attempt: job.attempts, worker_id: job.locked_by, worker_name: worker?.name ?? null,
      started_at: job.started_at, finished_at: null, outcome: null, error: null });
  }
  return { job, attempts };
}

export type AdminActionResult =
  | { ok: true; job: JobRow }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'conflict'; message: string };

/**
 * Puts a dead or failed job back to pending, due now, with a fresh budget of attempts (its past attempts stay on
 * record, numbered on). A keyed job whose key already has a pending job conflicts: that job will do the work.
 * `statusChanged` (the engine's) lets the job's type update its own record in the same transaction.
 */
export async function retryJob(db: Kysely<Database>, id: number, actor: Actor, requestId?: string,
  statusChanged?: JobStatusListener): Promise<AdminActionResult> {
  return db.transaction().execute(async (trx) => {
    const job = await trx.selectFrom('jobs').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!job) return { ok: false, reason: 'not_found' } as const;
    if (job.status !== 'dead' && job.status !== 'failed') {
      return { ok: false, reason: 'conflict', message: `only dead or failed jobs can be retried; this one is ${job.status}` } as const;
    }
    if (job.key !== null) {
      const sibling = await trx.selectFrom('jobs').select('id').where('queue', '=', job.queue)
        .where('key', '=', job.key).where('status', '=', 'pending').executeTakeFirst();
      if (sibling) {
        return { ok: false, reason: 'conflict', message: `job ${sibling.id} is already pending for key ${job.key}` } as const;
      }
    }
    const updated = await trx.updateTable('jobs').where('id', '=', id).set({
      status: 'pending', scheduled_at: sql<Date>`now()`, completed_at: null, locked_by: null, lease_expires_at: null,
      max_attempts: job.attempts + job.max_attempts, updated_at: sql<Date>`now()`,
    }).returningAll().executeTakeFirstOrThrow();
    await statusChanged?.(trx, { jobId: id, queue: job.queue, type: job.type, status: 'pending', attempts: job.attempts,
      error: null });
    await recordAudit(trx, { actor, category: 'job', action: 'job.retried', requestId,
      details: { job_id: id, queue: job.queue, type: job.type, previous_status: job.status } });
    await sql`select pg_notify(${jobsChannel}, ${job.queue})`.execute(trx);
    return { ok: true, job: updated } as const;
  });
}

/**
 * Cancels a pending or running job: it ends `failed`. A running job's worker is told to abort its handler, and
 * whatever that run reports later is rejected by fencing. `statusChanged` as for retryJob.
 */
export async function cancelJob(db: Kysely<Database>, id: number, actor: Actor, requestId?: string,
  statusChanged?: JobStatusListener): Promise<AdminActionResult> {
  return db.transaction().execute(async (trx) => {
    const job = await trx.selectFrom('jobs').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!job) return { ok: false, reason: 'not_found' } as const;
    if (job.status !== 'pending' && job.status !== 'running') {
      return { ok: false, reason: 'conflict', message: `only pending or running jobs can be cancelled; this one is ${job.status}` } as const;
    }
    const message = `cancelled by ${actor.type}${actor.id ? ` ${actor.id}` : ''}`;
    if (job.status === 'running' && job.started_at) {
      await trx.insertInto('job_attempts').values({
        job_id: id, attempt: job.attempts, worker_id: job.locked_by, started_at: job.started_at,
        finished_at: sql<Date>`now()`, outcome: 'cancelled', error: message,
      }).execute();
      await sql`select pg_notify(${jobCancelChannel}, ${String(id)})`.execute(trx);
    }
    const updated = await trx.updateTable('jobs').where('id', '=', id).set({
      status: 'failed', completed_at: sql<Date>`now()`, last_error: message, lease_expires_at: null,
      updated_at: sql<Date>`now()`,
    }).returningAll().executeTakeFirstOrThrow();
    await statusChanged?.(trx, { jobId: id, queue: job.queue, type: job.type, status: 'failed', attempts: job.attempts,
      error: message });
    await recordAudit(trx, { actor, category: 'job', action: 'job.cancelled', requestId,
      details: { job_id: id, queue: job.queue, type: job.type, previous_status: job.status } });
    return { ok: true, job: updated } as const;
  });
}

export async function listWorkers(db: Kysely<Database>, limit: number, offset: number):
  Promise<{ workers: JobWorkerRow[]; total: number }> {
  const [workers, count] = await Promise.all([
    db.selectFrom('job_workers').selectAll()
      .orderBy(sql`case status when 'online' then 0 when 'draining' then 1 else 2 end`)
      .orderBy('last_heartbeat_at', 'desc').limit(limit).offset(offset).execute(),
    db.selectFrom('job_workers').select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return { workers, total: Number(count.total) };
}

export interface QueueSummary {
  queue: string;
  depth: Record<JobStatus, number>;
  /** Pending jobs that are due now (the rest wait for their scheduled time). */
  due: number;
  oldest_pending_age_seconds: number | null;
  completed_last_minute: number;
  failed_last_minute: number;
}

export interface QueueOverview {
  queues: QueueSummary[];
  workers: Array<Pick<JobWorkerRow, 'name' | 'queue' | 'status' | 'last_heartbeat_at' | 'concurrency'>>;
}

/**
 * Queue depths by status, the age of the oldest due job, runs finished in the last minute, and the workers seen
 * in the last hour: what the System Health page and GET /api/admin/queues show.
 */
export async function queueOverview(db: Kysely<Database>): Promise<QueueOverview> {
  const [depths, pending, throughput, workers] = await Promise.all([
    sql<{ queue: string; status: JobStatus; count: number }>`
      select queue, status, count(*)::int as count from jobs group by queue, status`.execute(db),
    sql<{ queue: string; due: number; oldest: number | null }>`
      select queue, count(*)::int as due, extract(epoch from now() - min(scheduled_at))::float8 as oldest
        from jobs where status = 'pending' and scheduled_at <= now() group by queue`.execute(db),
    sql<{ queue: string; completed: number; failed: number }>`
      select j.queue, count(*) filter (where a.outcome = 'completed')::int as completed,
             count(*) filter (where a.outcome in ('failed', 'dead'))::int as failed
        from job_attempts a join jobs j on j.id = a.job_id
       where a.finished_at > now() - interval '1 minute' group by j.queue`.execute(db),
    db.selectFrom('job_workers').select(['name', 'queue', 'status', 'last_heartbeat_at', 'concurrency'])
      .where((eb) => eb.or([eb('status', '<>', 'offline'),
        eb('last_heartbeat_at', '>', sql<Date>`now() - interval '1 hour'`)]))
      .orderBy('queue').orderBy('name').execute(),
  ]);
  const byQueue = new Map<string, QueueSummary>();
  const summary = (queue: string) => {
    let entry = byQueue.get(queue);
    if (!entry) {
      entry = { queue, depth: { pending: 0, running: 0, completed: 0, failed: 0, dead: 0 }, due: 0,
        oldest_pending_age_seconds: null, completed_last_minute: 0, failed_last_minute: 0 };
      byQueue.set(queue, entry);
    }
    return entry;
  };
  for (const row of depths.rows) summary(row.queue).depth[row.status] = row.count;
  for (const row of pending.rows) Object.assign(summary(row.queue), { due: row.due, oldest_pending_age_seconds: row.oldest });
  for (const row of throughput.rows) {
    Object.assign(summary(row.queue), { completed_last_minute: row.completed, failed_last_minute: row.failed });
  }
  for (const worker of workers) summary(worker.queue);
  return { queues: [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue)), workers };
}
