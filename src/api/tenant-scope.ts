import type { Context } from 'hono';
import { z } from 'zod';
import type { Db } from '../db/database.ts';
import { restApi, type OrderScope } from '../front-door.ts';
import { findTenant, type Tenant } from '../tenancy/tenants.ts';
import { canSeeTenant, principalOf } from './auth.ts';
import type { AppEnv } from './context.ts';
import { notFound, validationError } from './errors.ts';

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

/**
 * The scope of the caller's orders, through the REST API: admins act on any tenant's objects (tenant null), everyone
 * else on their own tenant's (others are not found).
 */
export function orderScope(c: Context<AppEnv>): OrderScope {
  const principal = principalOf(c);
  return { tenantId: principal.isAdmin ? null : principal.tenantId ?? '-', actor: principal.actor,
    requestId: c.get('requestId'), door: restApi };
}

/** `tenant` in a create body: the tenant (id or slug) a platform token orders for; otherwise the token's own. */
export const tenantField = z.string().min(1, 'must not be empty').optional();

/**
 * The tenant a new object is for: the one named (visible to the caller), else the token's own. A platform token
 * must name one. 400 naming `tenant` otherwise.
 */
export async function tenantOfNewObject(c: Context<AppEnv>, db: Db, named: string | undefined): Promise<Tenant> {
  const principal = principalOf(c);
  const wanted = named ?? principal.tenantId;
  if (!wanted) throw validationError([{ name: 'tenant', messages: ['required with a platform token: the tenant (id or slug) to act for'] }]);
  const tenant = await findTenant(db, wanted);
  if (!tenant || !canSeeTenant(principal, tenant.id)) throw validationError([{ name: 'tenant', messages: ['no such tenant'] }]);
  return tenant;
}

/** Objects made under a pod (volumes, DNS names) belong to the pod's tenant: a `tenant` named must be that one. */
export async function assertTenantOfPod(c: Context<AppEnv>, db: Db, named: string | undefined, pod: { tenant_id: string })
  : Promise<void> {
  if (named === undefined) return;
  if ((await tenantOfNewObject(c, db, named)).id !== pod.tenant_id) {
    throw validationError([{ name: 'tenant', messages: ['the pod belongs to another tenant'] }]);
  }
}
