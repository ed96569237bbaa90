import { sql, type Kysely, type Selectable } from 'kysely';
import type { CloudTenantResourceTotalsTable, Database } from '../db/schema.ts';

export type Totals = Pick<Selectable<CloudTenantResourceTotalsTable>,
  'pods_total' | 'cpu_cores_total' | 'memory_mb_total' | 'disk_gb_total' | 'bandwidth_gb_total' | 'ipv4_total'>;

/**
 * A subscription counts while it is active and has not reached its end. A plan without bandwidth is unmetered: one
 * such subscription makes the bandwidth total null (no limit). This one expression defines the totals; the stored
 * row and the check both use it.
 */
function totalsQuery(db: Kysely<Database>, tenantId: string) {
  return db.selectFrom('cloud_tenant_resource_subscriptions as s')
    .innerJoin('cloud_resource_plans as p', 'p.id', 's.plan_id')
    .where('s.tenant_id', '=', tenantId)
    .where('s.status', '=', 'active')
    .where((eb) => eb.or([eb('s.ends_at', 'is', null), eb('s.ends_at', '>', sql<Date>`now()`)]))
    .select([
      sql<number>`coalesce(sum(s.quantity * p.pods_count), 0)::int`.as('pods_total'),
      sql<number>`coalesce(sum(s.quantity * p.cpu_cores), 0)::int`.as('cpu_cores_total'),
      sql<number>`coalesce(sum(s.quantity * p.memory_mb), 0)::int`.as('memory_mb_total'),
      sql<number>`coalesce(sum(s.quantity * p.disk_gb), 0)::int`.as('disk_gb_total'),
      sql<number | null>`case when bool_or(p.bandwidth_gb is null) then null
        else coalesce(sum(s.quantity * p.bandwidth_gb), 0)::int end`.as('bandwidth_gb_total'),
      sql<number>`coalesce(sum(s.quantity * p.ipv4_count), 0)::int`.as('ipv4_total'),
    ]);
}

export async function computeTotals(db: Kysely<Database>, tenantId: string): Promise<Totals> {
  return totalsQuery(db, tenantId).executeTakeFirstOrThrow();
}

/** Rewrites a tenant's totals row from its subscriptions; call it in the transaction that changed them. */
export async function recomputeTotals(db: Kysely<Database>, tenantId: string): Promise<Totals> {
  const totals = await computeTotals(db, tenantId);
  await db.insertInto('cloud_tenant_resource_totals').values({ tenant_id: tenantId, ...totals })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...totals, updated_at: sql`now()` })).execute();
  return totals;
}

/** After a plan's resources change: every tenant with a subscription to it. */
export async function recomputeTotalsForPlan(db: Kysely<Database>, planId: string): Promise<void> {
  const tenants = await db.selectFrom('cloud_tenant_resource_subscriptions').select('tenant_id').distinct()
    .where('plan_id', '=', planId).execute();
  for (const { tenant_id } of tenants) await recomputeTotals(db, tenant_id);
}

export interface TotalsMismatch {
  tenantId: string;
  stored: Totals | null;
  expected: Totals;
}

const zero: Totals = { pods_total: 0, cpu_cores_total: 0, memory_mb_total: 0, disk_gb_total: 0, bandwidth_gb_total: 0, ipv4_total: 0 };

/** Recomputes every tenant's totals and lists those whose stored row differs: empty means all are right. */
export async function verifyTotals(db: Kysely<Database>): Promise<TotalsMismatch[]> {
  const tenants = await db.selectFrom('tenants').select('id').execute();
  const mismatches: TotalsMismatch[] = [];
  for (const { id } of tenants) {
    const expected = await computeTotals(db, id);
    const row = await db.selectFrom('cloud_tenant_resource_totals')
      .select(['pods_total', 'cpu_cores_total', 'memory_mb_total', 'disk_gb_total', 'bandwidth_gb_total', 'ipv4_total'])
      .where('tenant_id', '=', id).executeTakeFirst();
    const stored = row ?? null;
    if (JSON.stringify(stored ?? zero) !== JSON.stringify(expected)) mismatches.push({ tenantId: id, stored, expected });
  }
  return mismatches;
}
