import { sql, type Kysely } from 'kysely';
import type { Database, HookDeliveryStatus } from '../db/schema.ts';
import type { BlockingEvent } from './config.ts';
import { lifecycleEventType } from './events.ts';

/**
 * Blocking hooks (spec 9: hooks do not block the lifecycle "unless you explicitly configure blocking hooks"): a
 * `pod.pre_create` or `pod.pre_destroy` hook with `config.blocking` holds the pod until its delivery of that event
 * has ended. The pod controller asks this before it provisions or tears down; nothing else waits.
 *
 * - `pending`: the event has not been fanned out yet while the tenant has a blocking hook for it, or a blocking
 *   delivery of the event for this pod is not finished (waiting for its first attempt or a retry).
 * - `failed`: a blocking delivery was given up, or the event was never fanned out (its job ended for good): the
 *   admin retries the job (POST /api/admin/jobs/:id/retry) or deactivates the hook.
 * - `clear`: nothing holds the pod.
 *
 * Only a hook that is still active, blocking and not being deleted holds anything: deactivating it, clearing
 * `config.blocking` or deleting it releases the pod. A delivery counts as blocking when the fan-out marked it so
 * (fan-out.ts), so a hook made blocking later does not hold events already fanned out.
 *
 * Deliveries are read from the ledger (ledger.ts), so pruning finished jobs changes nothing here; the one thing read
 * from the jobs is whether the event's job is still to run, and an unfinished job is never pruned. One statement on
 * the hook index (tenant, event), and on two small partial indexes (migrations 0013 and 0020) only when the tenant
 * has a blocking hook for the event.
 */
export type HookGate =
  | { state: 'clear' }
  /** `inFlight`: the fan-out is still to run, and nothing will wake the pod when it has: look soon. */
  | { state: 'pending'; hooks: string[]; inFlight: boolean }
  /** `hook`: the hook's name (every blocking hook's, for an event never fanned out); `jobId`: the job to retry. */
  | { state: 'failed'; hook: string; error: string; jobId: number };

interface GateRow {
  kind: 'fan-out' | 'delivery';
  job_id: number;
  status: HookDeliveryStatus;
  last_error: string | null;
  hooks: string[];
}

export async function hookGate(db: Kysely<Database>, pod: { id: string; tenantId: string }, event: BlockingEvent)
  : Promise<HookGate> {
  const { rows } = await sql<GateRow>`
    with blocking as (
      select id, name from cloud_pod_hooks
       where tenant_id = ${pod.tenantId} and event = ${event} and is_active and deletion_requested_at is null
         and config->'blocking' = 'true'::jsonb
    )
    select 'fan-out' as kind, j.id as job_id, 'pending' as status, null as last_error,
           (select array_agg(name order by name) from blocking) as hooks
      from jobs j
     where j.type = ${sql.lit(lifecycleEventType)} and j.payload->>'pod_id' = ${pod.id}
       and j.payload->>'event' = ${event}
       and j.status in ('pending', 'running') and exists (select from blocking)
    union all
    select 'delivery', d.job_id, d.status, d.last_error, array[b.name]
      from cloud_pod_hook_deliveries d join blocking b on b.id = d.hook_id
     where d.pod_id = ${pod.id} and d.event = ${event} and d.blocking and d.status in ('pending', 'failed', 'given_up')
     order by job_id, hooks`.execute(db);
  const failed = rows.find((row) => row.status === 'given_up');
  if (failed) {
    // An event never fanned out gave up every blocking hook's delivery under the event's job: one failure.
    const hooks = rows.filter((row) => row.status === 'given_up' && row.job_id === failed.job_id)
      .flatMap((row) => row.hooks);
    return { state: 'failed', hook: hooks.join(', '), jobId: Number(failed.job_id),
      error: failed.last_error ?? 'given up' };
  }
  if (rows.length === 0) return { state: 'clear' };
  const hooks = [...new Set(rows.flatMap((row) => row.hooks))].sort();
  return { state: 'pending', hooks, inFlight: rows.some((row) => row.kind === 'fan-out') };
}
