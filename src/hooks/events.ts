import type { Kysely } from 'kysely';
import type { Database, HookEvent } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';
import type { LifecycleEventPayload } from './envelope.ts';

/**
 * Pod lifecycle events (spec 9): the one interface through which the controller says what happened to a pod.
 * Publishing enqueues a `lifecycle.event` job in the caller's transaction, so an event exists exactly when the
 * transition that caused it commits; its handler (fan-out.ts) makes one `hook.execute` job and one ledger row per
 * matching active hook, which execute.ts delivers (and retries) on its own. Nothing waits for a delivery, but for
 * the deliveries of blocking hooks (`config.blocking`, pre events only): the pod controller asks gate.ts before it
 * provisions or tears down.
 */
export const lifecycleQueue = 'webhooks';
/** The job type of one event, fanned out to the hooks. */
export const lifecycleEventType = 'lifecycle.event';
/** The job type of one delivery of one event to one hook (execute.ts). */
export const hookExecuteType = 'hook.execute';

export interface LifecycleEvent {
  event: HookEvent;
  podId: string;
  tenantId: string;
  /** What a receiver needs to know about the pod at that moment (never secrets). */
  data: Record<string, unknown>;
}

/** The `hook.execute` job's payload, written by the fan-out. */
export interface HookExecutePayload {
  hook_id: string;
  delivery_id: string;
  event: LifecycleEventPayload;
  /** The hook blocked the pod (config.blocking, a pre event) when the event was fanned out. */
  blocking?: true;
}

export async function publishLifecycleEvent(trx: Kysely<Database>, engine: JobEngine, event: LifecycleEvent): Promise<void> {
  await engine.enqueue(trx, {
    queue: lifecycleQueue, type: lifecycleEventType,
    payload: { event: event.event, pod_id: event.podId, tenant_id: event.tenantId, data: event.data as never,
      occurred_at: new Date().toISOString() },
  });
}
