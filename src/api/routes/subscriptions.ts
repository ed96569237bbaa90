import { Hono } from 'hono';
import { z } from 'zod';
import { findPlan } from '../../tenancy/plans.ts';
import { changeSubscription, findSubscription, listSubscriptions, subscribe } from '../../tenancy/subscriptions.ts';
import { principalOf, requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { ApiError, notFound, validationError } from '../errors.ts';
import { tenantFromPath } from '../tenant-scope.ts';
import { readJson, readParam } from '../validation.ts';

const quantity = z.number({ error: 'expected a number' }).int('expected a whole number').min(1, 'expected 1 or more')
  .max(10_000, 'expected at most 10000');
const time = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time' }).transform((t) => new Date(t));

const createBody = z.strictObject({ plan_code: z.string().min(1), quantity: quantity.default(1), ends_at: time.optional() })
  .refine((v) => !v.ends_at || v.ends_at > new Date(), { message: 'must be in the future', path: ['ends_at'] });
const patchBody = z.strictObject({
  quantity: quantity.optional(),
  status: z.literal('cancelled', { error: 'only "cancelled" can be set' }).optional(),
  ends_at: time.nullable().optional(),
}).refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .refine((v) => !(v.status && v.quantity), { message: 'cancel or change the quantity, not both', path: ['quantity'] });

/** A tenant's subscriptions to resource plans (spec 3.2); totals follow every change in the same transaction. */
export function subscriptionRoutes({ db, presence }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const manage = [requireAdmin(), requirePermission('plans.manage')] as const;

  app.get('/', async (c) => {
    const tenant = await tenantFromPath(c, db);
    return c.json({ subscriptions: await listSubscriptions(db, tenant.id) });
  });

  app.post('/', ...manage, idempotent({ db, presence }), async (c) => {
    const tenant = await tenantFromPath(c, db);
    const body = await readJson(c, createBody);
    const plan = await findPlan(db, body.plan_code);
    if (!plan) throw validationError([{ name: 'plan_code', messages: ['no such plan'] }]);
    if (!plan.is_active) throw validationError([{ name: 'plan_code', messages: ['the plan is not offered any more'] }]);
    const created = await subscribe(db, { tenantId: tenant.id, planId: plan.id, quantity: body.quantity,
      endsAt: body.ends_at ?? null }, principalOf(c).actor, c.get('requestId'));
    return c.json({ subscription: await findSubscription(db, tenant.id, created.id) }, 201);
  });

  app.patch('/:id', ...manage, async (c) => {
    const tenant = await tenantFromPath(c, db);
    const id = readParam(c, 'id', z.uuid(), 'subscription');
    const body = await readJson(c, patchBody);
    const result = await changeSubscription(db, tenant.id, id,
      { quantity: body.quantity, status: body.status, endsAt: body.ends_at }, principalOf(c).actor, c.get('requestId'));
    if (!result) throw notFound('subscription');
    if (result === 'cancelled') throw new ApiError(409, 'conflict', 'the subscription is cancelled; subscribe again');
    return c.json({ subscription: await findSubscription(db, tenant.id, id) });
  });

  return app;
}
