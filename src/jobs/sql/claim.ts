import type pg from 'pg';
import type { JsonObject } from '../../db/schema.ts';

/** A claimed job row, as the claim returns it. */
export interface ClaimedRow {
  id: number;
  type: string;
  payload: JsonObject;
  key: string | null;
  attempts: number;
  max_attempts: number;
  priority: number;
  scheduled_at: Date;
}

/**
 * Claims up to `limit` due jobs of a queue for one worker, highest priority first, in one statement. SKIP LOCKED
 * lets claimers pass each other; a keyed job is skipped while its key has a running job (the client-go
 * "processing set"), and the materialized CTE fences the LIMIT so the UPDATE touches exactly the selected rows.
 * `attempts` is bumped here: with `locked_by` it is the fencing token of completion.
 */
const claimSql = `
with next as materialized (
  select j.id from jobs j
   where j.queue = $1 and j.status = 'pending' and j.scheduled_at <= now()
     and (j.key is null or not exists (
           select 1 from jobs r where r.queue = j.queue and r.key = j.key and r.status = 'running'))
   order by j.priority desc, j.scheduled_at, j.id
   limit $2
   for update skip locked)
update jobs j
   set status = 'running', attempts = j.attempts + 1, started_at = now(), updated_at = now(),
       locked_by = $3, lease_expires_at = now() + $4 * interval '1 millisecond'
  from next
 where j.id = next.id
returning j.id, j.type, j.payload, j.key, j.attempts, j.max_attempts, j.priority, j.scheduled_at`;

export interface ClaimOptions {
  queue: string;
  limit: number;
  workerId: string;
  /** How long the claim holds before the reaper may presume the job abandoned. */
  leaseMs: number;
}

/** Runs the claim as a named prepared statement on the engine's own pool (the hot path skips kysely). */
export async function claimJobs(pool: pg.Pool, { queue, limit, workerId, leaseMs }: ClaimOptions):
  Promise<ClaimedRow[]> {
  const result = await pool.query<ClaimedRow>({
    name: 'cloudpods_jobs_claim', text: claimSql, values: [queue, limit, workerId, leaseMs],
  });
  // Rows come back in physical order; run them in claim order.
  return result.rows.sort((a, b) => b.priority - a.priority || +a.scheduled_at - +b.scheduled_at || a.id - b.id);
}
