import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { hookExecuteType, lifecycleEventType } from '../pods/lifecycle.ts';
import type { BlockingEvent } from './config.ts';
import { deliveryFailureReason } from './execute.ts';

/**
 * Blocking hooks (spec 9: hooks do not block the lifecycle "unless you explicitly configure blocking hooks"): a
 * `pod.pre_create` or `pod.pre_destroy` hook with `config.blocking` holds the pod until its delivery of that event
 * has ended. The pod controller asks this before it provisions or tears down; nothing else waits.
 *
 * - `pending`: the event has not been fanned out yet while the tenant has a blocking hook for it, or a blocking
 *   delivery of the event for this pod is not finished (waiting for its first run or a retry, or running).
 * - `failed`: a blocking delivery was given up (dead or failed), or the fan-out itself was: the admin retries the
 *   job (POST /api/admin/jobs/:id/retry) or deactivates the hook.
 * - `clear`: nothing holds the pod.
 *
 * Only a hook that is still active, blocking and not being deleted holds anything: deactivating it, clearing
 * `config.blocking` or deleting it releases the pod. A delivery counts as blocking when the fan-out marked it so
 * (src/pods/lifecycle.ts), so a hook made blocking later does not hold events already fanned out.
 *
 * One statement on the hook index (tenant, event), and on two small partial job indexes (migration 0013) only when
 * the tenant has a blocking hook for the event.
 */
export type HookGate =
  | { state: 'clear' }
  /** `inFlight`: the fan-out is still to run or a delivery is running: its end may not be recorded yet, look soon. */
  | { state: 'pending'; hooks: string[]; inFlight: boolean }
  /** `hook`: the hook's name (every blocking hook's, for a failed fan-out); `jobId`: the job to retry. */
  | { state: 'failed'; hook: string; error: string; jobId: number };

interface GateRow {
  kind: 'fan-out' | 'delivery';
  id: string;
  status: string;
  last_error: string | null;
  hooks: string[];
}

const unfinished = new Set(['pending', 'running']);

export async function hookGate(db: Kysely<Database>, pod: { id: string; tenantId: string }, event: BlockingEvent)
  : Promise<HookGate> {
  const { rows } = await sql<GateRow>`
    with blocking as (
      select id, name from cloud_pod_hooks
       where tenant_id = ${pod.tenantId} and event = ${event} and is_active and deletion_requested_at is null
         and config->'blocking' = 'true'::jsonb
    )
    select 'fan-out' as kind, j.id, j.status, j.last_error,
           (select array_agg(name order by name) from blocking) as hooks
      from jobs j
     where j.type = ${sql.lit(lifecycleEventType)} and j.payload->>'pod_id' = ${pod.id} and j.payload->>'event' = ${event}
       and j.status <> 'completed' and exists (select from blocking)
    union all
    select 'delivery', j.id, j.status, j.last_error, array[b.name]
      from jobs j join blocking b on b.id::text = j.payload->>'hook_id'
     where j.type = ${sql.lit(hookExecuteType)} and j.payload->>'blocking' = 'true'
       and j.payload->'event'->>'pod_id' = ${pod.id} and j.payload->'event'->>'event' = ${event}
       and j.status <> 'completed'
     order by id`.execute(db);
  const failed = rows.find((row) => !unfinished.has(row.status));
  if (failed) {
    const error = failed.last_error === null ? `job ${failed.status}` : deliveryFailureReason(failed.last_error);
    return { state: 'failed', hook: failed.hooks.join(', '), jobId: Number(failed.id),
      error: failed.kind === 'fan-out' ? `the ${event} event was not fanned out: ${error}` : error };
  }
  if (rows.length === 0) return { state: 'clear' };
  const hooks = [...new Set(rows.flatMap((row) => row.hooks))].sort();
  return { state: 'pending', hooks,
    inFlight: rows.some((row) => row.kind === 'fan-out' || row.status === 'running') };
}
