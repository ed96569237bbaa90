import { sql, type Kysely } from 'kysely';

/**
 * The health controller's record of each pod, apart from the pod controller's status columns (which the kit
 * writes fenced by generation): whether the pod is healthy (`health_status`, the `Healthy` condition's status, null
 * until first checked), why (`health_reason`, `health_message`), how many checks in a row failed, when the last
 * one ran and when the status last changed. `heal_given_up_at`: auto-heal reached its bound and stopped repairing the pod until its spec changes or
 * an admin asks for a heal. `heal_started_at`: a heal's task is in flight (with `task_upid`), counted against the
 * fleet's bound. The partial index holds only unhealthy pods, for the dashboard.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pods
      add column health_status text null,
      add column health_reason text null,
      add column health_message text null,
      add column health_failures integer not null default 0,
      add column health_checked_at timestamptz null,
      add column health_changed_at timestamptz null,
      add column heal_given_up_at timestamptz null,
      add column heal_started_at timestamptz null,
      add constraint cloud_pods_health_status_check check (health_status in ('True', 'False', 'Unknown')),
      add constraint cloud_pods_health_failures_check check (health_failures >= 0);
    create index cloud_pods_unhealthy_idx on cloud_pods (health_checked_at) where health_status = 'False';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index if exists cloud_pods_unhealthy_idx;
    alter table cloud_pods
      drop constraint if exists cloud_pods_health_failures_check,
      drop constraint if exists cloud_pods_health_status_check,
      drop column if exists heal_started_at,
      drop column if exists heal_given_up_at,
      drop column if exists health_changed_at,
      drop column if exists health_checked_at,
      drop column if exists health_failures,
      drop column if exists health_message,
      drop column if exists health_reason,
      drop column if exists health_status;
  `.execute(db);
}
