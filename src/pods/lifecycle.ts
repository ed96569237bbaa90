import { sql, type Kysely } from 'kysely';
import type { Database, HookEvent, JsonObject } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';
import { isBlockingEvent } from '../hooks/config.ts';
import { deliveryId, type LifecycleEventPayload } from '../hooks/envelope.ts';
import type { HookExecutePayload } from '../hooks/execute.ts';

/**
 * Pod lifecycle events (spec 9): the one interface through which the controller says what happened to a pod.
 * Publishing enqueues a `lifecycle.event` job in the caller's transaction, so an event exists exactly when the
 * transition that caused it commits; its handler fans out one `hook.execute` job per matching active hook, which
 * src/hooks/execute.ts delivers (and retries) on its own. Nothing waits for a delivery, but for the deliveries of
 * blocking hooks (`config.blocking`, pre events only): the pod controller asks src/hooks/gate.ts before it provisions
 * or tears down.
 */
export const lifecycleQueue = 'webhooks';
/** The job type of one event, fanned out to the hooks. */
export const lifecycleEventType = 'lifecycle.event';
/** The job type of one delivery of one event to one hook (src/hooks/execute.ts). */
export const hookExecuteType = 'hook.execute';

export interface LifecycleEvent {
  event: HookEvent;
  podId: string;
  tenantId: string;
  /** What a receiver needs to know about the pod at that moment (never secrets). */
  data: Record<string, unknown>;
}

export async function publishLifecycleEvent(trx: Kysely<Database>, engine: JobEngine, event: LifecycleEvent): Promise<void> {
  await engine.enqueue(trx, {
    queue: lifecycleQueue, type: lifecycleEventType,
    payload: { event: event.event, pod_id: event.podId, tenant_id: event.tenantId, data: event.data as never,
      occurred_at: new Date().toISOString() },
  });
}

/**
 * Registers the fan-out: each event becomes one delivery job per active hook of the tenant for that event, each
 * with its delivery id (the event job's id and the hook's: stable however often either job runs).
 */
export function defineLifecycleEvents(engine: JobEngine, db: Kysely<Database>): void {
  engine.defineTask({
    queue: lifecycleQueue,
    type: lifecycleEventType,
    handler: async (job) => {
      const event = job.payload as unknown as LifecycleEventPayload;
      const hooks = await db.selectFrom('cloud_pod_hooks')
        .select(['id', sql<boolean>`coalesce(config->'blocking' = 'true'::jsonb, false)`.as('blocking')])
        .where('tenant_id', '=', event.tenant_id)
        .where('event', '=', event.event).where('is_active', '=', true).where('deletion_requested_at', 'is', null).execute();
      // No hook: the event job itself remains the record that it happened.
      if (hooks.length === 0) return;
      await engine.enqueueMany(db, hooks.map((hook) => {
        // Blocking is decided here, once: the gate holds the pod only for deliveries marked so (and only while their
        // hook is still active and blocking).
        const payload: HookExecutePayload = { hook_id: hook.id, delivery_id: deliveryId(job.id, hook.id), event,
          ...(hook.blocking && isBlockingEvent(event.event) ? { blocking: true as const } : {}) };
        return { queue: lifecycleQueue, type: hookExecuteType, payload: payload as unknown as JsonObject };
      }));
    },
  });
}
