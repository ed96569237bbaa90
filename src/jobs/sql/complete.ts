import type pg from 'pg';

/** A finished run waiting for the next group commit; (id, attempt, workerId) is the claim's fencing token. */
export interface Completion {
  id: number;
  attempt: number;
  workerId: string;
  workerName: string;
  startedAt: Date;
}

/**
 * Marks many runs completed and records their attempts in one statement. A run whose job was meanwhile rescued
 * (re-claimed with another attempt or worker) or cancelled matches nothing: its completion is rejected.
 * Returns the ids that were accepted.
 */
const completeSql = `
with done as (
  select * from unnest($1::bigint[], $2::int[], $3::uuid[], $4::text[], $5::timestamptz[])
           as d(id, attempt, worker_id, worker_name, started_at)),
finished as (
  update jobs j
     set status = 'completed', completed_at = now(), updated_at = now(), lease_expires_at = null
    from done d
   where j.id = d.id and j.attempts = d.attempt and j.locked_by = d.worker_id and j.status = 'running'
  returning j.id, j.attempts, d.worker_id, d.worker_name, d.started_at),
recorded as (
  insert into job_attempts (job_id, attempt, worker_id, worker_name, started_at, finished_at, outcome)
  select id, attempts, worker_id, worker_name, started_at, now(), 'completed' from finished)
select id from finished`;

export async function completeJobs(pool: pg.Pool, runs: readonly Completion[]): Promise<Set<number>> {
  // Unnamed, so planned for each batch's size: a cached generic plan misjudges the arrays and scans the table.
  const result = await pool.query<{ id: number }>({
    text: completeSql,
    values: [runs.map((r) => r.id), runs.map((r) => r.attempt), runs.map((r) => r.workerId),
      runs.map((r) => r.workerName), runs.map((r) => r.startedAt)],
  });
  return new Set(result.rows.map((r) => r.id));
}
