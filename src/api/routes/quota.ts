import { Hono } from 'hono';
import { z } from 'zod';
import { principalOf, requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { notFound } from '../errors.ts';
import { tenantFromPath, tenantFromQuery } from '../tenant-scope.ts';
import { readJson, readQuery } from '../validation.ts';

const limit = z.number({ error: 'expected a number' }).int('expected a whole number').min(0, 'expected 0 or more')
  .max(1_000_000_000, 'expected at most 1000000000');
const overrideBody = z.strictObject({
  pods: limit, cpu_cores: limit, memory_mb: limit, disk_gb: limit,
  bandwidth_gb: limit.nullable().default(null), ipv4: limit.nullable().default(null),
});

/** `GET /api/cloud-pods/quota`: limit, used and available per resource for the caller's tenant (admins: any). */
export function quotaRoutes({ db, quotas }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const query = readQuery(c, z.strictObject({ tenant: z.string().min(1).optional() }));
    const tenant = await tenantFromQuery(c, db, query.tenant);
    return c.json({ tenant: { id: tenant.id, slug: tenant.slug }, quota: await quotas.getQuotaReport(tenant.id) });
  });
  return app;
}

/** `PUT|DELETE /api/cloud-pods/tenants/:tenantId/quota`: a per-tenant override, which wins over plans and defaults. */
export function quotaOverrideRoutes({ db, quotas }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requireAdmin(), requirePermission('plans.manage'));
  app.put('/', async (c) => {
    const tenant = await tenantFromPath(c, db);
    const body = await readJson(c, overrideBody);
    await quotas.setOverride(tenant.id, body, principalOf(c).actor, c.get('requestId'));
    return c.json({ quota: await quotas.getQuotaReport(tenant.id) });
  });
  app.delete('/', async (c) => {
    const tenant = await tenantFromPath(c, db);
    if (!(await quotas.clearOverride(tenant.id, principalOf(c).actor, c.get('requestId')))) {
      throw notFound('quota override');
    }
    return c.json({ quota: await quotas.getQuotaReport(tenant.id) });
  });
  return app;
}
