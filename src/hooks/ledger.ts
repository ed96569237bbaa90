import { sql, type Kysely } from 'kysely';
import type { Database, HookDeliveryRow, NewHookDelivery } from '../db/schema.ts';
import { daysAgo, deleteOlderThan } from '../jobs/batched-delete.ts';
import type { MaintenanceTask } from '../jobs/maintenance.ts';
import type { NumberSettings } from '../jobs/policy.ts';
import type { JobStatusChange } from '../jobs/types.ts';

/**
 * The delivery ledger (migration 0020), one function per SQL operation: a row per delivery of one lifecycle event
 * to one hook, inserted pending by the fan-out with its job, and moved on in the transaction of each attempt's
 * outcome (execute.ts), or of the engine's or an admin's change to its job. The gate and the deliveries list read
 * it, never the jobs, so pruning finished jobs changes neither. It keeps deliveries as long as the audit keeps
 * entries (`cloudpods.audit.retention_days`).
 */

type Db = Kysely<Database>;

/** A delivery as the fan-out records it. */
export type NewDelivery = Pick<NewHookDelivery, 'hook_id' | 'tenant_id' | 'pod_id' | 'event' | 'delivery_id' | 'job_id'
  | 'blocking'>;

/** How one attempt ended: `failed` leaves retries, `given_up` was the last. */
export type AttemptOutcome = { status: 'delivered' } | { status: 'failed' | 'given_up'; error: string };

/** Longest reason kept: an HTTP status with the start of the answer, or a script's first lines. */
const errorLimit = 500;
const shortError = (reason: string): string =>
  reason.length <= errorLimit ? reason : `${reason.slice(0, errorLimit - 1)}…`;

/**
 * Records deliveries: pending, or given up with `givenUp` as their reason (an event never fanned out). A delivery
 * already on record is left as it is.
 */
export async function insertDeliveries(db: Db, rows: readonly NewDelivery[], givenUp?: string): Promise<void> {
  if (rows.length === 0) return;
  const ended = givenUp === undefined ? {}
    : { status: 'given_up' as const, last_error: shortError(givenUp), finished_at: sql<Date>`now()` };
  await db.insertInto('cloud_pod_hook_deliveries').values(rows.map((row) => ({ ...row, ...ended })))
    .onConflict((oc) => oc.column('delivery_id').doNothing()).execute();
}

/** Which of these deliveries are on record already. */
export async function recordedDeliveryIds(db: Db, deliveryIds: readonly string[]): Promise<Set<string>> {
  if (deliveryIds.length === 0) return new Set();
  const rows = await db.selectFrom('cloud_pod_hook_deliveries').select('delivery_id')
    .where('delivery_id', 'in', deliveryIds).execute();
  return new Set(rows.map((row) => row.delivery_id));
}

/**
 * One attempt's outcome, in the transaction that records it on the hook: the fan-out's row moves on (a delivery
 * job enqueued without one gets it now). A delivered row keeps the reason of the attempt that failed before.
 */
export async function recordAttempt(db: Db, delivery: NewDelivery, attempt: number, outcome: AttemptOutcome)
  : Promise<void> {
  const finished_at = outcome.status === 'failed' ? null : sql<Date>`now()`;
  const error = outcome.status === 'delivered' ? {} : { last_error: shortError(outcome.error) };
  await db.insertInto('cloud_pod_hook_deliveries')
    .values({ ...delivery, status: outcome.status, attempts: attempt, finished_at, ...error })
    .onConflict((oc) => oc.column('delivery_id').doUpdateSet({ status: outcome.status, attempts: attempt,
      job_id: delivery.job_id, finished_at, updated_at: sql<Date>`now()`, ...error }))
    .execute();
}

/** The hook was inactive, being deleted or moved to another event when the delivery's turn came: nothing sent. */
export async function markSkipped(db: Db, deliveryId: string, attempt: number): Promise<void> {
  await db.updateTable('cloud_pod_hook_deliveries')
    .set({ status: 'skipped', attempts: attempt, finished_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('delivery_id', '=', deliveryId).execute();
}

/**
 * A delivery job changed status outside its handler's report: given up when it ended (timed out or lost past its
 * last attempt, or cancelled by an admin), pending again when an admin retries it. A delivered or skipped row stays.
 */
export async function followDeliveryJob(db: Db, change: JobStatusChange): Promise<void> {
  const update = change.status === 'pending' ? { status: 'pending' as const, finished_at: null }
    : { status: 'given_up' as const, attempts: change.attempts, finished_at: sql<Date>`now()`,
      last_error: shortError(change.error ?? `job ${change.status}`) };
  await db.updateTable('cloud_pod_hook_deliveries').set({ ...update, updated_at: sql<Date>`now()` })
    .where('job_id', '=', change.jobId).where('status', 'not in', ['delivered', 'skipped']).execute();
}

/** Forgets the given-up deliveries recorded for a job (an event whose fan-out an admin retries records them anew). */
export async function deleteGivenUpDeliveriesOfJob(db: Db, jobId: number): Promise<void> {
  await db.deleteFrom('cloud_pod_hook_deliveries').where('job_id', '=', jobId).where('status', '=', 'given_up')
    .execute();
}

/** The hook's deliveries, newest first: one seek on cloud_pod_hook_deliveries_hook_idx. */
export async function listHookDeliveries(db: Db, hookId: string, page: { limit: number; offset: number })
  : Promise<{ deliveries: HookDeliveryRow[]; total: number }> {
  const query = db.selectFrom('cloud_pod_hook_deliveries').where('hook_id', '=', hookId);
  const [deliveries, count] = await Promise.all([
    query.selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    query.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { deliveries, total: count.n };
}

/** Deletes deliveries older than the audit's retention, in small batches. */
export async function pruneHookDeliveries(db: Db, settings: NumberSettings): Promise<number> {
  return deleteOlderThan(db, 'cloud_pod_hook_deliveries',
    daysAgo(await settings.getNumber('cloudpods.audit.retention_days')));
}

/** The ledger's retention as a daily maintenance pass. */
export const hookDeliveriesRetentionTask = (db: Db, settings: NumberSettings): MaintenanceTask => ({
  type: 'hook_deliveries.prune', minute: 45, run: async () => ({ deleted: await pruneHookDeliveries(db, settings) }),
});
