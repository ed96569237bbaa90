import { Hono } from 'hono';
import { z } from 'zod';
import { dnsLabelSchema } from '../../dns/label.ts';
import { createTenant, listTenants, setTenantStatus } from '../../tenancy/tenants.ts';
import { principalOf, requireAdmin } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { offsetOf, paginationMeta, paginationQuery } from '../pagination.ts';
import { tenantFromPath } from '../tenant-scope.ts';
import { readJson, readQuery } from '../validation.ts';

const createBody = z.strictObject({
  slug: dnsLabelSchema,
  name: z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters'),
});

/** Tenants (admin scope); a tenant token may read its own. */
export function tenantRoutes({ db, presence, jobs, settings }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const replayable = idempotent({ db, presence });

  app.get('/', requireAdmin(), async (c) => {
    const page = readQuery(c, z.strictObject(paginationQuery));
    const { tenants, total } = await listTenants(db, { limit: page.per_page, offset: offsetOf(page) });
    return c.json({ tenants, meta: paginationMeta(page, total) });
  });

  app.post('/', requireAdmin(), replayable, async (c) => {
    const body = await readJson(c, createBody);
    const tenant = await createTenant(db, body, principalOf(c).actor);
    return c.json({ tenant }, 201);
  });

  app.get('/:tenantId', async (c) => c.json({ tenant: await tenantFromPath(c, db) }));

  for (const [action, status] of [['suspend', 'suspended'], ['unsuspend', 'active']] as const) {
    app.post(`/:tenantId/${action}`, requireAdmin(), replayable, async (c) => {
      const tenant = await tenantFromPath(c, db);
      const updated = await setTenantStatus({ db, engine: jobs, settings }, tenant.id, status, principalOf(c).actor,
        c.get('requestId'));
      return c.json({ tenant: updated });
    });
  }

  return app;
}
