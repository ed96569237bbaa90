import type { HookEvent, JsonObject } from '../db/schema.ts';

/**
 * What a hook receives (spec 9): the body of an http delivery and the stdin of a script, the same JSON either way.
 *
 *   { "id": "msg_812_5f0c…", "event": "pod.post_create", "created_at": "2025-…Z",
 *     "tenant_id": "…", "pod_id": "…", "data": { "name": "web-1", "vmid": 1000, … } }
 *
 * `id` names the delivery: one lifecycle event to one hook. It stays the same across retries (receivers dedupe on
 * it; it is also the `webhook-id` header) and holds no `.`, which Standard Webhooks reserves as its separator.
 */
export interface Envelope {
  id: string;
  event: HookEvent;
  /** When the transition happened (not when this attempt was made). */
  created_at: string;
  tenant_id: string;
  pod_id: string;
  /** What the publisher of the event said about the pod; never secrets. */
  data: JsonObject;
}

/** The lifecycle event as the `lifecycle.event` job carries it (src/hooks/events.ts). */
export interface LifecycleEventPayload {
  event: HookEvent;
  pod_id: string;
  tenant_id: string;
  data: JsonObject;
  occurred_at: string;
}

/** The delivery id of one event (its `lifecycle.event` job) to one hook. */
export function deliveryId(eventJobId: number, hookId: string): string {
  return `msg_${eventJobId}_${hookId}`;
}

export function buildEnvelope(id: string, event: LifecycleEventPayload): Envelope {
  return { id, event: event.event, created_at: event.occurred_at, tenant_id: event.tenant_id, pod_id: event.pod_id,
    data: event.data ?? {} };
}
