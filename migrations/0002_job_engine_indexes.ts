import { sql, type Kysely } from 'kysely';

/**
 * Indexes the job engine (src/jobs) needs beyond 0001. Finished jobs stay in `jobs` (updated in place): the
 * claim's partial indexes never see them, and retention deletes them in small batches.
 *
 * - jobs_schedule_slot_idx: a schedule's job for one tick has the key `schedule:<name>:<tick>`; unique across every
 *   status, so replicas that all try to enqueue the same tick insert it once (ON CONFLICT DO NOTHING), even after
 *   the first has finished.
 * - job_attempts_finished_at_idx: throughput over the last minute (admin queues page) and retention by age.
 *
 * This file is frozen once released: it must not import application code.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
create unique index jobs_schedule_slot_idx on jobs (queue, key) where key like 'schedule:%';
create index job_attempts_finished_at_idx on job_attempts (finished_at);
`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
drop index job_attempts_finished_at_idx;
drop index jobs_schedule_slot_idx;
`.execute(db);
}
