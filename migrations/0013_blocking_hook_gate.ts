import { sql, type Kysely } from 'kysely';

/**
 * The blocking-hook gate (src/hooks/gate.ts) asks, for one pod, whether its pre event has been fanned out and how
 * its blocking deliveries stand: one seek each instead of reading the webhooks queue. The second index holds only
 * blocking deliveries, so it stays small. No column in them changes when a job is claimed or finished, so those
 * updates stay heap-only.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create index jobs_lifecycle_events_pod_idx on jobs ((payload->>'pod_id')) where type = 'lifecycle.event';
    create index jobs_blocking_deliveries_pod_idx on jobs ((payload->'event'->>'pod_id'))
      where type = 'hook.execute' and payload->>'blocking' = 'true';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index if exists jobs_blocking_deliveries_pod_idx;
    drop index if exists jobs_lifecycle_events_pod_idx;
  `.execute(db);
}
