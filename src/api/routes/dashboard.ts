import { Hono } from 'hono';
import { adminOverview } from '../../dashboard/overview.ts';
import { requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';

/** `GET /api/cloud-pods/admin/overview` (spec 2.2): cloudpods.view + health.view + admin scope. */
export function dashboardRoutes({ db }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/overview', requireAdmin(), requirePermission('cloudpods.view', 'health.view'),
    async (c) => c.json(await adminOverview(db)));
  return app;
}
