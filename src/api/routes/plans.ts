import { Hono } from 'hono';
import { z } from 'zod';
import { dnsLabelSchema } from '../../dns/label.ts';
import { createPlan, findPlan, listPlans, removePlan, updatePlan } from '../../tenancy/plans.ts';
import { principalOf, requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { ApiError, notFound } from '../errors.ts';
import { readJson, readQuery } from '../validation.ts';

const amount = (max: number) => z.number({ error: 'expected a number' }).int('expected a whole number')
  .min(0, 'expected 0 or more').max(max, `expected at most ${max}`);
const price = z.union([z.number(), z.string().regex(/^\d{1,10}(\.\d{1,2})?$/)], { error: 'expected a price such as 12.50' })
  .refine((v) => Number(v) >= 0 && Number(v) < 1e10, 'expected a price from 0 to 9999999999.99')
  .transform((v) => Number(v).toFixed(2));

const planFields = {
  name: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
  description: z.string().max(2000, 'at most 2000 characters').nullable().optional(),
  cpu_cores: amount(100_000),
  memory_mb: amount(100_000_000),
  disk_gb: amount(100_000_000),
  bandwidth_gb: amount(100_000_000).nullable().optional(),
  ipv4_count: amount(100_000).optional(),
  pods_count: amount(100_000).optional(),
  price_monthly: price,
  is_active: z.boolean().optional(),
};

const createBody = z.strictObject({ code: dnsLabelSchema, ...planFields });
const patchBody = z.strictObject(planFields).partial()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change');

/** Resource plans (spec 3): everyone reads the active catalogue; admins with plans.manage change it. */
export function planRoutes({ db, presence }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const manage = [requireAdmin(), requirePermission('plans.manage')] as const;
  const seesInactive = (c: Parameters<typeof principalOf>[0]) => principalOf(c).isAdmin;

  app.get('/', async (c) => {
    const query = readQuery(c, z.strictObject({ include_inactive: z.enum(['true', 'false']).default('false') }));
    const plans = await listPlans(db, { includeInactive: query.include_inactive === 'true' && seesInactive(c) });
    return c.json({ plans });
  });

  app.post('/', ...manage, idempotent({ db, presence }), async (c) => {
    const body = await readJson(c, createBody);
    if (await findPlan(db, body.code)) {
      throw new ApiError(409, 'conflict', `a plan with code ${body.code} exists`, { field: 'code' });
    }
    return c.json({ plan: await createPlan(db, body, principalOf(c).actor) }, 201);
  });

  app.get('/:code', async (c) => {
    const plan = await findPlan(db, c.req.param('code'));
    if (!plan || (!plan.is_active && !seesInactive(c))) throw notFound('plan');
    return c.json({ plan });
  });

  app.patch('/:code', ...manage, async (c) => {
    const body = await readJson(c, patchBody);
    const plan = await updatePlan(db, c.req.param('code'), body, principalOf(c).actor);
    if (!plan) throw notFound('plan');
    return c.json({ plan });
  });

  // A plan in use is deactivated rather than deleted: 200 with the plan and what uses it; else 204.
  app.delete('/:code', ...manage, async (c) => {
    const removal = await removePlan(db, c.req.param('code'), principalOf(c).actor);
    if (!removal) throw notFound('plan');
    if (removal.deleted) return c.body(null, 204);
    return c.json({ plan: removal.plan, in_use: removal.inUse });
  });

  return app;
}
