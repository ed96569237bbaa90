import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { daysAgo } from './batched-delete.ts';
import type { NumberSettings } from './policy.ts';

export interface JobPruneResult {
  jobs: number;
  workers: number;
}

/**
 * Deletes finished jobs (completed, failed, dead) older than `jobs.retention_days` with their attempts, and workers
 * offline that long. Batches of a couple of thousand, each its own statement: the claim's partial indexes never
 * hold finished jobs, so this touches nothing the hot path reads.
 */
export async function pruneFinishedJobs(db: Kysely<Database>, settings: NumberSettings, batchSize = 2000):
  Promise<JobPruneResult> {
  const cutoff = daysAgo(await settings.getNumber('jobs.retention_days'));
  let jobs = 0;
  for (;;) {
    const { rows } = await sql<{ deleted: number }>`
      with doomed as (
        select id from jobs
         where status in ('completed', 'failed', 'dead') and created_at < ${cutoff} and completed_at < ${cutoff}
         limit ${batchSize}),
      attempts as (delete from job_attempts a using doomed d where a.job_id = d.id),
      deleted as (delete from jobs j using doomed d where j.id = d.id returning 1)
      select count(*)::int as deleted from deleted`.execute(db);
    const deleted = rows[0]?.deleted ?? 0;
    jobs += deleted;
    if (deleted < batchSize) break;
  }
  const workers = await db.deleteFrom('job_workers').where('status', '=', 'offline')
    .where('last_heartbeat_at', '<', cutoff).executeTakeFirst();
  return { jobs, workers: Number(workers.numDeletedRows) };
}
