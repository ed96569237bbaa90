import { sql, type Kysely, type Selectable } from 'kysely';
import type { CloudResourcePlansTable, Database } from '../db/schema.ts';
import { recordAudit, type Actor } from '../observability/audit.ts';
import { recomputeTotalsForPlan } from './totals.ts';

export type Plan = Selectable<CloudResourcePlansTable>;

/** The resources one unit of a plan grants; the price is not a resource. */
export type PlanResources = Pick<Plan, 'cpu_cores' | 'memory_mb' | 'disk_gb' | 'ipv4_count'>;

/**
 * Plan order: plan A is at least plan B when A grants at least as much of every resource (CPU cores, memory,
 * disk, IPv4 addresses) per unit. Bandwidth and price do not count. Two plans may be incomparable.
 */
export function planCovers(a: PlanResources, b: PlanResources): boolean {
  return a.cpu_cores >= b.cpu_cores && a.memory_mb >= b.memory_mb && a.disk_gb >= b.disk_gb
    && a.ipv4_count >= b.ipv4_count;
}

export async function listPlans(db: Kysely<Database>, { includeInactive = false } = {}): Promise<Plan[]> {
  let query = db.selectFrom('cloud_resource_plans').selectAll().orderBy('cpu_cores').orderBy('memory_mb')
    .orderBy('code');
  if (!includeInactive) query = query.where('is_active', '=', true);
  return query.execute();
}

export function findPlan(db: Kysely<Database>, code: string): Promise<Plan | undefined> {
  return db.selectFrom('cloud_resource_plans').selectAll().where('code', '=', code).executeTakeFirst();
}

export interface PlanFields {
  code: string;
  name: string;
  description?: string | null;
  cpu_cores: number;
  memory_mb: number;
  disk_gb: number;
  bandwidth_gb?: number | null;
  ipv4_count?: number;
  pods_count?: number;
  price_monthly: string | number;
  is_active?: boolean;
}

export async function createPlan(db: Kysely<Database>, fields: PlanFields, actor: Actor): Promise<Plan> {
  return db.transaction().execute(async (trx) => {
    const plan = await trx.insertInto('cloud_resource_plans').values(fields).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, category: 'quota', action: 'plan.created', details: { plan: plan.code, ...fields } });
    return plan;
  });
}

/**
 * Changes a plan; when its resources change, the totals of every tenant subscribed to it are recomputed in the
 * same transaction, so totals always equal the sum of active subscriptions.
 */
export async function updatePlan(db: Kysely<Database>, code: string, changes: Partial<Omit<PlanFields, 'code'>>,
  actor: Actor): Promise<Plan | undefined> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('cloud_resource_plans').selectAll().where('code', '=', code).forUpdate()
      .executeTakeFirst();
    if (!before) return undefined;
    const plan = await trx.updateTable('cloud_resource_plans').set({ ...changes, updated_at: sql`now()` })
      .where('id', '=', before.id).returningAll().executeTakeFirstOrThrow();
    await recomputeTotalsForPlan(trx, plan.id);
    const changed = Object.fromEntries(Object.keys(changes).map((k) => [k, {
      old: before[k as keyof Plan], new: plan[k as keyof Plan] }]));
    await recordAudit(trx, { actor, category: 'quota', action: 'plan.updated', details: { plan: code, changes: changed } });
    return plan;
  });
}

/** What refers to a plan: subscriptions (even cancelled ones: they are billing history) and templates. */
export interface PlanUse {
  subscriptions: number;
  templates: number;
}

async function planInUse(db: Kysely<Database>, plan: Plan): Promise<PlanUse> {
  const [subscriptions, templates] = await Promise.all([
    db.selectFrom('cloud_tenant_resource_subscriptions').select(({ fn }) => fn.countAll<number>().as('n'))
      .where('plan_id', '=', plan.id).executeTakeFirstOrThrow(),
    db.selectFrom('cloud_pod_templates').select(({ fn }) => fn.countAll<number>().as('n'))
      .where('minimum_plan_code', '=', plan.code).executeTakeFirstOrThrow(),
  ]);
  return { subscriptions: Number(subscriptions.n), templates: Number(templates.n) };
}

export type PlanRemoval = { deleted: true } | { deleted: false; plan: Plan; inUse: PlanUse };

/**
 * Removes a plan: one nothing refers to is deleted; one in use is deactivated instead (no new subscriptions, and
 * nothing that names it breaks), and says what uses it. The plan row is locked, and a new subscription's foreign
 * key check waits on that lock, so none slips in between the check and the delete. Undefined: no such plan.
 */
export async function removePlan(db: Kysely<Database>, code: string, actor: Actor): Promise<PlanRemoval | undefined> {
  return db.transaction().execute(async (trx) => {
    const plan = await trx.selectFrom('cloud_resource_plans').selectAll().where('code', '=', code).forUpdate()
      .executeTakeFirst();
    if (!plan) return undefined;
    const inUse = await planInUse(trx, plan);
    if (inUse.subscriptions === 0 && inUse.templates === 0) {
      await trx.deleteFrom('cloud_resource_plans').where('id', '=', plan.id).execute();
      await recordAudit(trx, { actor, category: 'quota', action: 'plan.deleted', details: { plan: plan.code } });
      return { deleted: true };
    }
    if (!plan.is_active) return { deleted: false, plan, inUse };
    const deactivated = await trx.updateTable('cloud_resource_plans').set({ is_active: false, updated_at: sql`now()` })
      .where('id', '=', plan.id).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, category: 'quota', action: 'plan.deactivated',
      details: { plan: plan.code, in_use: inUse } });
    return { deleted: false, plan: deactivated, inUse };
  });
}
