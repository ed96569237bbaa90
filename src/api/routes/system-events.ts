import { Hono } from 'hono';
import { z } from 'zod';
import { systemEventLevels } from '../../db/schema.ts';
import { listSystemEvents } from '../../observability/events-query.ts';
import { requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { offsetOf, paginationMeta, paginationQuery } from '../pagination.ts';
import { readQuery } from '../validation.ts';

const isoTime = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time such as 2026-11-24T10:00:00Z' })
  .transform((text) => new Date(text));

export const systemEventsQuery = z.strictObject({
  ...paginationQuery,
  service: z.string().min(1).max(100).optional(),
  level: z.enum(systemEventLevels, { error: `expected one of ${systemEventLevels.join(', ')}` }).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  q: z.string().min(1).max(200).optional(),
}).refine((v) => !v.from || !v.to || v.from < v.to, { message: 'must be after from', path: ['to'] });

/** Spec 5.2: every component's events (warn and error lines, info lines that are events), for the System Health page. */
export function systemEventRoutes({ db }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', requireAdmin(), requirePermission('health.view'), async (c) => {
    const { page, per_page, ...filter } = readQuery(c, systemEventsQuery);
    const { events, total } = await listSystemEvents(db, filter, { limit: per_page, offset: offsetOf({ page, per_page }) });
    return c.json({ events, meta: paginationMeta({ page, per_page }, total) });
  });
  return app;
}
