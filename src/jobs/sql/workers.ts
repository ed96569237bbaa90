import { sql, type Kysely } from 'kysely';
import type { Database, JobWorkerStatus } from '../../db/schema.ts';

export interface WorkerRegistration {
  name: string;
  queue: string;
  hostname: string;
  pid: number;
  concurrency: number;
}

/** Registers one worker row per queue of a process; the ids are what running jobs' `locked_by` holds. */
export async function registerWorkers(db: Kysely<Database>, workers: readonly WorkerRegistration[]):
  Promise<Array<{ id: string; queue: string }>> {
  if (workers.length === 0) return [];
  return db.insertInto('job_workers').values(workers.map((w) => ({ ...w, status: 'online' as const })))
    .returning(['id', 'queue']).execute();
}

/**
 * Records that the workers are alive, in their current status. A worker the reaper had presumed dead comes back
 * online; the jobs taken from it stay taken, since fencing rejects its late completions.
 */
export async function heartbeatWorkers(db: Kysely<Database>, ids: readonly string[], status: JobWorkerStatus):
  Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('job_workers').where('id', 'in', ids)
    .set({ last_heartbeat_at: sql<Date>`now()`, status }).execute();
}

/** A running job whose worker went silent (or whose lease ran out), locked for the reaper. */
export interface AbandonedRun {
  id: number;
  queue: string;
  type: string;
  attempts: number;
  max_attempts: number;
  locked_by: string;
  started_at: Date;
  worker_name: string | null;
  lease_expired: boolean;
}

/**
 * Running jobs whose worker has not sent a heartbeat for `staleMs`, is offline or unknown, or whose lease has
 * expired. Rows another reaper is settling right now are skipped; settling is fenced, so two reapers finding the
 * same run settle it once.
 */
export async function findAbandonedRuns(trx: Kysely<Database>, staleMs: number, limit: number):
  Promise<AbandonedRun[]> {
  const { rows } = await sql<AbandonedRun>`
    select j.id, j.queue, j.type, j.attempts, j.max_attempts, j.locked_by, j.started_at, w.name as worker_name,
           j.lease_expires_at < now() as lease_expired
      from jobs j left join job_workers w on w.id = j.locked_by
     where j.status = 'running'
       and (w.id is null or w.status = 'offline' or w.last_heartbeat_at < now() - ${staleMs} * interval '1 millisecond'
            or j.lease_expires_at < now())
     order by j.id
     limit ${limit}
       for update of j skip locked`.execute(trx);
  return rows;
}

/** Marks workers silent for `staleMs` offline, so the admin page tells the truth about them. */
export async function markSilentWorkersOffline(db: Kysely<Database>, staleMs: number): Promise<number> {
  const result = await db.updateTable('job_workers')
    .where('status', '<>', 'offline')
    .where('last_heartbeat_at', '<', sql<Date>`now() - ${staleMs} * interval '1 millisecond'`)
    .set({ status: 'offline' }).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
