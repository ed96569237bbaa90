import { sql, type Kysely, type Selectable } from 'kysely';
import type { CloudTenantResourceSubscriptionsTable, Database } from '../db/schema.ts';
import type { MaintenanceTask } from '../jobs/maintenance.ts';
import { recordAudit, type Actor } from '../observability/audit.ts';
import { recomputeTotals, verifyTotals } from './totals.ts';

export type Subscription = Selectable<CloudTenantResourceSubscriptionsTable>;

/** A subscription with its plan's code, as the API shows it. */
export type SubscriptionView = Subscription & { plan_code: string };

export async function listSubscriptions(db: Kysely<Database>, tenantId: string): Promise<SubscriptionView[]> {
  return db.selectFrom('cloud_tenant_resource_subscriptions as s')
    .innerJoin('cloud_resource_plans as p', 'p.id', 's.plan_id')
    .selectAll('s').select('p.code as plan_code')
    .where('s.tenant_id', '=', tenantId).orderBy('s.started_at', 'desc').orderBy('s.id').execute();
}

export async function findSubscription(db: Kysely<Database>, tenantId: string, id: string)
  : Promise<SubscriptionView | undefined> {
  return db.selectFrom('cloud_tenant_resource_subscriptions as s')
    .innerJoin('cloud_resource_plans as p', 'p.id', 's.plan_id')
    .selectAll('s').select('p.code as plan_code')
    .where('s.tenant_id', '=', tenantId).where('s.id', '=', id).executeTakeFirst();
}

export interface NewSubscription {
  tenantId: string;
  planId: string;
  quantity: number;
  startedAt?: Date;
  endsAt?: Date | null;
}

export async function subscribe(db: Kysely<Database>, spec: NewSubscription, actor: Actor,
  requestId?: string): Promise<Subscription> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.insertInto('cloud_tenant_resource_subscriptions').values({
      tenant_id: spec.tenantId, plan_id: spec.planId, quantity: spec.quantity,
      started_at: spec.startedAt ?? sql`now()`, ends_at: spec.endsAt ?? null,
    }).returningAll().executeTakeFirstOrThrow();
    const totals = await recomputeTotals(trx, spec.tenantId);
    await recordAudit(trx, { actor, category: 'quota', action: 'subscription.created', tenantId: spec.tenantId,
      requestId, details: { subscription_id: row.id, plan_id: spec.planId, quantity: spec.quantity, totals } });
    return row;
  });
}

export interface SubscriptionChange {
  quantity?: number;
  /** Cancelling sets the end to `endsAt`, or now. */
  status?: 'cancelled';
  endsAt?: Date | null;
}

/** Changes quantity, end date or cancels; totals follow in the same transaction. Cancelled is final. */
export async function changeSubscription(db: Kysely<Database>, tenantId: string, id: string,
  change: SubscriptionChange, actor: Actor, requestId?: string): Promise<Subscription | 'cancelled' | undefined> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('cloud_tenant_resource_subscriptions').selectAll()
      .where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!before) return undefined;
    if (before.status === 'cancelled') return 'cancelled';
    const row = await trx.updateTable('cloud_tenant_resource_subscriptions').set({
      ...(change.quantity !== undefined ? { quantity: change.quantity } : {}),
      ...(change.status === 'cancelled'
        ? { status: 'cancelled' as const, ends_at: change.endsAt ?? sql<Date>`now()` }
        : change.endsAt !== undefined ? { ends_at: change.endsAt } : {}),
      updated_at: sql`now()`,
    }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    const totals = await recomputeTotals(trx, tenantId);
    await recordAudit(trx, {
      actor, category: 'quota', action: change.status === 'cancelled' ? 'subscription.cancelled' : 'subscription.changed',
      tenantId, requestId, details: {
        subscription_id: id, quantity: { old: before.quantity, new: row.quantity },
        ends_at: { old: before.ends_at, new: row.ends_at }, totals,
      },
    });
    return row;
  });
}

/**
 * Subscriptions whose end has passed become cancelled and their tenants' totals are recomputed. The quota read
 * path runs it for one tenant, so an ended subscription never counts; a daily job runs it for all.
 */
export async function expireEndedSubscriptions(db: Kysely<Database>, tenantId?: string): Promise<number> {
  let query = db.updateTable('cloud_tenant_resource_subscriptions')
    .set({ status: 'cancelled', updated_at: sql`now()` })
    .where('status', '=', 'active').where('ends_at', '<=', sql<Date>`now()`);
  if (tenantId) query = query.where('tenant_id', '=', tenantId);
  const expired = await query.returning(['id', 'tenant_id']).execute();
  for (const tenant of new Set(expired.map((e) => e.tenant_id))) {
    await recomputeTotals(db, tenant);
    await recordAudit(db, { actor: { type: 'system', id: 'subscriptions' }, category: 'quota',
      action: 'subscription.expired', tenantId: tenant,
      details: { subscription_ids: expired.filter((e) => e.tenant_id === tenant).map((e) => e.id) } });
  }
  return expired.length;
}

/**
 * The daily pass: subscriptions past their end expire for every tenant, then every tenant's totals are checked
 * against its subscriptions.
 */
export const subscriptionExpiryTask = (db: Kysely<Database>): MaintenanceTask => ({
  type: 'subscriptions.expire', minute: 40, run: async (logger) => {
    const expired = await expireEndedSubscriptions(db);
    const mismatches = await verifyTotals(db);
    // Totals are kept in the same transaction as every change, so a mismatch is a bug worth an error event.
    if (mismatches.length > 0) logger.error({ mismatches }, 'tenant resource totals differ from their subscriptions');
    return { expired, totals_mismatches: mismatches.length };
  },
});
