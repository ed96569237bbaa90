import { sql, type Kysely } from 'kysely';
import type { Database, JsonObject } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';
import type { JobStatusChange } from '../jobs/types.ts';
import { isBlockingEvent } from './config.ts';
import { deliveryId, type LifecycleEventPayload } from './envelope.ts';
import { hookExecuteType, lifecycleEventType, lifecycleQueue, type HookExecutePayload } from './events.ts';
import { deleteGivenUpDeliveriesOfJob, insertDeliveries, recordedDeliveryIds, type NewDelivery } from './ledger.ts';

/**
 * Registers the fan-out of lifecycle events (events.ts): each event becomes, in one transaction, one delivery job
 * and one pending ledger row per active hook of the tenant for that event, each with its delivery id (the event
 * job's id and the hook's: stable however often either job runs). A fan-out run again (its completion lost) skips
 * the deliveries already on record. An event job the engine ends for good, or an admin cancels, records a given-up
 * delivery for each of its hooks, so the gate and the deliveries list see it as long as the ledger keeps it;
 * an admin's retry of that job forgets them and fans out anew.
 */
export function defineLifecycleEvents(engine: JobEngine, db: Kysely<Database>): void {
  engine.defineTask({
    queue: lifecycleQueue,
    type: lifecycleEventType,
    handler: (job) => fanOut(engine, db, job.id, job.payload as unknown as LifecycleEventPayload),
    onStatusChange: (trx, change) => (change.status === 'pending'
      ? deleteGivenUpDeliveriesOfJob(trx, change.jobId) : recordUnfannedEvent(trx, change)),
  });
}

async function fanOut(engine: JobEngine, db: Kysely<Database>, eventJobId: number, event: LifecycleEventPayload)
  : Promise<void> {
  const deliveries = await deliveriesOf(db, eventJobId, event);
  // No hook: the event job itself remains the record that it happened (and costs no transaction).
  if (deliveries.length === 0) return;
  await db.transaction().execute(async (trx) => {
    const recorded = await recordedDeliveryIds(trx, deliveries.map((d) => d.delivery_id));
    const due = deliveries.filter((d) => !recorded.has(d.delivery_id));
    if (due.length === 0) return;
    const jobIds = await engine.enqueueMany(trx, due.map((delivery) => {
      const payload: HookExecutePayload = { hook_id: delivery.hook_id, delivery_id: delivery.delivery_id, event,
        ...(delivery.blocking ? { blocking: true as const } : {}) };
      return { queue: lifecycleQueue, type: hookExecuteType, payload: payload as unknown as JsonObject };
    }));
    await insertDeliveries(trx, due.map((delivery, i) => ({ ...delivery, job_id: jobIds[i]! })));
  });
}

/** The event's job ended without a fan-out: each hook it was for gets a given-up delivery naming the event's job. */
async function recordUnfannedEvent(trx: Kysely<Database>, change: JobStatusChange): Promise<void> {
  const job = await trx.selectFrom('jobs').select('payload').where('id', '=', change.jobId).executeTakeFirst();
  if (!job) return;
  const event = job.payload as unknown as LifecycleEventPayload;
  const deliveries = await deliveriesOf(trx, change.jobId, event);
  await insertDeliveries(trx, deliveries.map((delivery) => ({ ...delivery, job_id: change.jobId })),
    `the ${event.event} event was not fanned out: ${change.error ?? `job ${change.status}`}`);
}

/**
 * The deliveries an event makes: one per active hook of its tenant and event. Blocking is decided here, once: the
 * gate holds the pod only for deliveries marked so (and only while their hook is still active and blocking).
 */
async function deliveriesOf(trx: Kysely<Database>, eventJobId: number, event: LifecycleEventPayload)
  : Promise<Omit<NewDelivery, 'job_id'>[]> {
  const hooks = await trx.selectFrom('cloud_pod_hooks')
    .select(['id', sql<boolean>`coalesce(config->'blocking' = 'true'::jsonb, false)`.as('blocking')])
    .where('tenant_id', '=', event.tenant_id).where('event', '=', event.event).where('is_active', '=', true)
    .where('deletion_requested_at', 'is', null).execute();
  return hooks.map((hook) => ({ hook_id: hook.id, tenant_id: event.tenant_id, pod_id: event.pod_id,
    event: event.event, delivery_id: deliveryId(eventJobId, hook.id),
    blocking: hook.blocking && isBlockingEvent(event.event) }));
}
