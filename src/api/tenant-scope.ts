import type { Context } from 'hono';
import type { Db } from '../db/database.ts';
import { findTenant, type Tenant } from '../tenancy/tenants.ts';
import { canSeeTenant, principalOf } from './auth.ts';
import type { AppEnv } from './context.ts';
import { notFound } from './errors.ts';

/** The tenant named by `:tenantId` (an id or a slug) if the caller may see it; anything else is 404. */
export async function tenantFromPath(c: Context<AppEnv>, db: Db): Promise<Tenant> {
  const tenant = await findTenant(db, c.req.param('tenantId') ?? '');
  if (!tenant || !canSeeTenant(principalOf(c), tenant.id)) throw notFound('tenant');
  return tenant;
}

/**
 * The tenant a request is about: the caller's own, or for admins the one named by `?tenant=`.
 * A platform token without a tenant must name one.
 */
export async function tenantFromQuery(c: Context<AppEnv>, db: Db, requested: string | undefined): Promise<Tenant> {
  const principal = principalOf(c);
  const wanted = requested ?? principal.tenantId;
  if (!wanted) throw notFound('tenant (name one with ?tenant=)');
  const tenant = await findTenant(db, wanted);
  if (!tenant || !canSeeTenant(principal, tenant.id)) throw notFound('tenant');
  return tenant;
}
