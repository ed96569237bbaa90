import { sql, type Kysely } from 'kysely';

/**
 * Pods waiting for a clone slot of their node are a queue of their own: `clone_queued_at` says since when, and a
 * finished clone wakes the longest-waiting pods of its node by it (before, a condition's reason doubled as the
 * index). The partial index holds only queued pods.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pods add column clone_queued_at timestamptz null;
    create index cloud_pods_clone_queue_idx on cloud_pods (node, clone_queued_at) where clone_queued_at is not null;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index if exists cloud_pods_clone_queue_idx;
    alter table cloud_pods drop column if exists clone_queued_at;
  `.execute(db);
}
