import type { Kysely } from 'kysely';
import type { Database, HookEvent } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';

/**
 * Pod lifecycle events (spec 9): the one interface through which the controller says what happened to a pod.
 * Publishing enqueues a `lifecycle.event` job in the caller's transaction, so an event exists exactly when the
 * transition that caused it commits; its handler fans out one `hook.execute` job per matching active hook, which
 * the hooks module delivers. Hooks never block the lifecycle.
 */
export const lifecycleQueue = 'webhooks';

export interface LifecycleEvent {
  event: HookEvent;
  podId: string;
  tenantId: string;
  /** What a receiver needs to know about the pod at that moment (never secrets). */
  data: Record<string, unknown>;
}

export async function publishLifecycleEvent(trx: Kysely<Database>, engine: JobEngine, event: LifecycleEvent): Promise<void> {
  await engine.enqueue(trx, {
    queue: lifecycleQueue, type: 'lifecycle.event',
    payload: { event: event.event, pod_id: event.podId, tenant_id: event.tenantId, data: event.data as never,
      occurred_at: new Date().toISOString() },
  });
}

/** Registers the fan-out: each event becomes one delivery job per active hook of the tenant for that event. */
export function defineLifecycleEvents(engine: JobEngine, db: Kysely<Database>): void {
  engine.defineTask({
    queue: lifecycleQueue,
    type: 'lifecycle.event',
    handler: async (job) => {
      const { event, tenant_id: tenantId } = job.payload as { event: HookEvent; tenant_id: string };
      const hooks = await db.selectFrom('cloud_pod_hooks').select('id').where('tenant_id', '=', tenantId)
        .where('event', '=', event).where('is_active', '=', true).where('deletion_requested_at', 'is', null).execute();
      // Until hook delivery is part of this build there is nothing to hand the event to; the event job itself
      // remains the record that it happened.
      if (hooks.length === 0 || !engine.handles(lifecycleQueue, 'hook.execute')) return;
      await engine.enqueueMany(db, hooks.map((hook) => ({
        queue: lifecycleQueue, type: 'hook.execute', payload: { hook_id: hook.id, event: job.payload },
      })));
    },
  });
}
