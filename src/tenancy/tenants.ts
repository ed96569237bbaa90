import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, TenantsTable } from '../db/schema.ts';
import { recordAudit, type Actor } from '../observability/audit.ts';

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

/** Suspends or reinstates a tenant; a suspended tenant cannot create or start pods. No change records nothing. */
export async function setTenantStatus(db: Kysely<Database>, tenantId: string, status: Tenant['status'], actor: Actor,
  requestId?: string): Promise<Tenant | undefined> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('tenants').selectAll().where('id', '=', tenantId).forUpdate().executeTakeFirst();
    if (!before || before.status === status) return before;
    const row = await trx.updateTable('tenants').set({ status, updated_at: sql`now()` }).where('id', '=', tenantId)
      .returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, category: 'tenant', action: status === 'suspended' ? 'tenant.suspended' : 'tenant.reinstated',
      tenantId, requestId, details: { slug: row.slug } });
    return row;
  });
}
