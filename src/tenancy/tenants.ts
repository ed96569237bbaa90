import type { Kysely, Selectable } from 'kysely';
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
