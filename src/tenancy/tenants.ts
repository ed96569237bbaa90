import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, TenantsTable } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';
import { recordAudit, type Actor } from '../observability/audit.ts';
import { lockTenantPods, startPodsStoppedBySuspension, stopPodsForSuspension } from '../pods/suspension.ts';
import type { SystemSettingsService } from '../settings/service.ts';

export type Tenant = Selectable<TenantsTable>;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Finds a tenant by its id or its slug. */
export async function findTenant(db: Kysely<Database>, idOrSlug: string): Promise<Tenant | undefined> {
  const column = uuidPattern.test(idOrSlug) ? 'id' : 'slug';
  return db.selectFrom('tenants').selectAll().where(column, '=', idOrSlug).executeTakeFirst();
}

export interface NewTenant {
  slug: string;
  name: string;
}

export async function createTenant(db: Kysely<Database>, tenant: NewTenant, actor: Actor): Promise<Tenant> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.insertInto('tenants').values(tenant).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, category: 'tenant', action: 'tenant.created', tenantId: row.id,
      details: { slug: row.slug, name: row.name } });
    return row;
  });
}

export async function listTenants(db: Kysely<Database>, page: { limit: number; offset: number })
  : Promise<{ tenants: Tenant[]; total: number }> {
  const [tenants, count] = await Promise.all([
    db.selectFrom('tenants').selectAll().orderBy('slug').limit(page.limit).offset(page.offset).execute(),
    db.selectFrom('tenants').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { tenants, total: Number(count.n) };
}

export interface TenantStatusDeps {
  db: Kysely<Database>;
  engine: JobEngine;
  settings: SystemSettingsService;
}

/**
 * Suspends or reinstates a tenant; a suspended tenant cannot create or start pods. With
 * `cloudpods.suspension.power_off_pods` (default true) suspending also stops its running pods, and reinstating starts
 * exactly the pods a suspension stopped (whatever the setting says by then), all in one transaction. The tenant's
 * audit entry lists those pods; each pod's change is audited too. No change records nothing.
 */
export async function setTenantStatus(deps: TenantStatusDeps, tenantId: string, status: Tenant['status'], actor: Actor,
  requestId?: string): Promise<Tenant | undefined> {
  const powerOff = status === 'suspended' && await deps.settings.getBoolean('cloudpods.suspension.power_off_pods');
  return deps.db.transaction().execute(async (trx) => {
    await lockTenantPods(trx, tenantId);
    const before = await trx.selectFrom('tenants').selectAll().where('id', '=', tenantId).forUpdate().executeTakeFirst();
    if (!before || before.status === status) return before;
    const row = await trx.updateTable('tenants').set({ status, updated_at: sql`now()` }).where('id', '=', tenantId)
      .returningAll().executeTakeFirstOrThrow();
    const scope = { engine: deps.engine, tenantId, actor, requestId };
    const details = status === 'suspended'
      ? { slug: row.slug, stopped_pods: powerOff ? await stopPodsForSuspension(trx, scope) : [] }
      : { slug: row.slug, started_pods: await startPodsStoppedBySuspension(trx, scope) };
    await recordAudit(trx, { actor, category: 'tenant', action: status === 'suspended' ? 'tenant.suspended' : 'tenant.reinstated',
      tenantId, requestId, details });
    return row;
  });
}
