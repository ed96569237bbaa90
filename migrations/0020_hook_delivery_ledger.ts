import { sql, type Kysely } from 'kysely';

/**
 * The hook delivery ledger (src/hooks/ledger.ts): one row per delivery of one lifecycle event to one hook, written
 * by the fan-out with the `hook.execute` job and updated in the transaction of each attempt's outcome. The
 * blocking-hook gate and GET /api/cloud-pods/hooks/:id/deliveries read it instead of the jobs table, so pruning
 * finished jobs (`jobs.retention_days`) no longer changes what holds a pod or what a hook's deliveries show. The
 * job indexes they needed (0012, and 0013's delivery index) go; 0013's index on events stays for the gate's "not
 * fanned out yet". Existing deliveries are carried over from their jobs.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table cloud_pod_hook_deliveries (
      id bigint generated always as identity primary key,
      hook_id uuid not null references cloud_pod_hooks (id) on delete cascade,
      tenant_id uuid not null,
      pod_id uuid not null,
      event text not null constraint cloud_pod_hook_deliveries_event_check
        check (event in ('pod.pre_create', 'pod.post_create', 'pod.pre_destroy', 'pod.post_destroy', 'pod.post_backup')),
      delivery_id text not null constraint cloud_pod_hook_deliveries_delivery_id_key unique,
      status text not null default 'pending' constraint cloud_pod_hook_deliveries_status_check
        check (status in ('pending', 'delivered', 'failed', 'given_up', 'skipped')),
      attempts integer not null default 0 constraint cloud_pod_hook_deliveries_attempts_check check (attempts >= 0),
      last_error text null,
      job_id bigint not null,
      blocking boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      finished_at timestamptz null,
      constraint cloud_pod_hook_deliveries_finished_check
        check ((finished_at is not null) = (status in ('delivered', 'given_up', 'skipped')))
    );
    comment on table cloud_pod_hook_deliveries is
      'Deliveries of lifecycle events to hooks and how each ended; what the hook gate and the deliveries list read.';
    comment on column cloud_pod_hook_deliveries.delivery_id is 'The id the receiver sees (msg_<event job>_<hook>).';
    comment on column cloud_pod_hook_deliveries.status is
      'pending (not tried yet, or retried by an admin), failed (an attempt failed, retries left), delivered, given_up, skipped (the hook was inactive or moved to another event when its turn came).';
    comment on column cloud_pod_hook_deliveries.job_id is
      'The job that delivers it (or, for an event never fanned out, the event''s job): the one to retry. No foreign key: jobs are pruned.';
    comment on column cloud_pod_hook_deliveries.blocking is 'The fan-out found the hook blocking: the gate waits for this delivery.';
    create index cloud_pod_hook_deliveries_hook_idx on cloud_pod_hook_deliveries (hook_id, id desc);
    create index cloud_pod_hook_deliveries_blocking_idx on cloud_pod_hook_deliveries (pod_id, event) where blocking;
    create index cloud_pod_hook_deliveries_job_idx on cloud_pod_hook_deliveries (job_id);

    insert into cloud_pod_hook_deliveries (hook_id, tenant_id, pod_id, event, delivery_id, status, attempts,
                                           last_error, job_id, blocking, created_at, updated_at, finished_at)
    select h.id, h.tenant_id, (j.payload->'event'->>'pod_id')::uuid, j.payload->'event'->>'event',
           j.payload->>'delivery_id',
           case when j.status = 'completed' then 'delivered' when j.status in ('failed', 'dead') then 'given_up'
                when j.last_error is not null then 'failed' else 'pending' end,
           j.attempts, left(regexp_replace(j.last_error, '^HookDeliveryError: ', ''), 500), j.id,
           coalesce(j.payload->>'blocking' = 'true', false), j.created_at, j.updated_at,
           case when j.status in ('completed', 'failed', 'dead') then coalesce(j.completed_at, j.updated_at) end
      from jobs j join cloud_pod_hooks h on h.id::text = j.payload->>'hook_id'
     where j.type = 'hook.execute' and j.payload->>'delivery_id' is not null
       and j.payload->'event'->>'pod_id' is not null
     order by j.id
    on conflict (delivery_id) do nothing;

    drop index if exists jobs_hook_deliveries_idx;
    drop index if exists jobs_blocking_deliveries_pod_idx;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create index if not exists jobs_hook_deliveries_idx on jobs ((payload->>'hook_id'), id desc)
      where type = 'hook.execute';
    create index if not exists jobs_blocking_deliveries_pod_idx on jobs ((payload->'event'->>'pod_id'))
      where type = 'hook.execute' and payload->>'blocking' = 'true';
    drop table if exists cloud_pod_hook_deliveries;
  `.execute(db);
}
