import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { hookEvents, hookTypes } from '../../db/schema.ts';
import { hookConfigSchema } from '../../hooks/config.ts';
import { changeHook, createHook, deleteHook, maxTargetLength, rotateSigningSecret, targetProblems }
  from '../../hooks/orders.ts';
import { listHookDeliveries } from '../../hooks/ledger.ts';
import { findHook, listHooks } from '../../hooks/store.ts';
import { deliveryView, hookView } from '../../hooks/view.ts';
import { canSeeTenant, principalOf, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { notFound } from '../errors.ts';
import { offsetOf, paginationMeta, paginationQuery } from '../pagination.ts';
import { orderScope, tenantField, tenantFromQuery, tenantOfNewObject } from '../tenant-scope.ts';
import { readJson, readParam, readQuery } from '../validation.ts';

const name = z.string({ error: 'expected a string' }).min(1, 'must not be empty').max(100, 'at most 100 characters')
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');
const event = z.enum(hookEvents, { error: `expected one of ${hookEvents.join(', ')}` });
const type = z.enum(hookTypes, { error: `expected one of ${hookTypes.join(', ')}` });
const target = z.string({ error: 'expected a string' }).min(1, 'must not be empty').max(maxTargetLength,
  `at most ${maxTargetLength} characters`);
const isActive = z.boolean({ error: 'expected true or false' });

const createBody = z.strictObject({
  tenant: tenantField,
  name, event, type, target,
  is_active: isActive.default(true),
  config: hookConfigSchema.default({}),
}).superRefine((order, ctx) => {
  for (const message of targetProblems(order.type, order.target)) ctx.addIssue({ code: 'custom', path: ['target'], message });
});

const patchBody = z.strictObject({
  name: name.optional(), target: target.optional(), is_active: isActive.optional(), config: hookConfigSchema.optional(),
  // Immutable: accepted only with the value the hook has (the order says so on the field otherwise).
  event: event.optional(), type: type.optional(),
}).refine((v) => Object.keys(v).length > 0,
  { message: 'name at least one field to change', when: (payload) => payload.issues.length === 0 });

const listQuery = z.strictObject({
  ...paginationQuery,
  event: event.optional(),
  active: z.enum(['true', 'false'], { error: 'expected true or false' }).optional(),
  tenant: z.string().min(1).optional(),
});
const pageQuery = z.strictObject(paginationQuery);

/**
 * Lifecycle hooks (spec 9), under `/api/cloud-pods/hooks`: what the tenant's systems are told about its pods.
 * Writes are synchronous (no controller: the row is the hook). The signing secret is in the answers to a
 * creation and a rotation, and nowhere else. A hook from Kubernetes changes only there (409 managed_by_kubernetes).
 */
export function hookRoutes({ db, config }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const orders = { db, scriptsDirectory: config.hooks.scriptsDirectory };
  const view = requirePermission('cloudpods.view');
  const manage = requirePermission('hooks.manage');

  const hookId = (c: Context<AppEnv>) => readParam(c, 'id', z.uuid(), 'hook');

  async function visibleHook(c: Context<AppEnv>) {
    const hook = await findHook(db, hookId(c));
    if (!hook || !canSeeTenant(principalOf(c), hook.tenant_id)) throw notFound('hook');
    return hook;
  }

  app.get('/', view, async (c) => {
    const query = readQuery(c, listQuery);
    const principal = principalOf(c);
    const tenantId = query.tenant || !principal.isAdmin ? (await tenantFromQuery(c, db, query.tenant)).id : undefined;
    const { hooks, total } = await listHooks(db, { tenantId, event: query.event,
      active: query.active === undefined ? undefined : query.active === 'true' },
    { limit: query.per_page, offset: offsetOf(query) });
    return c.json({ hooks: hooks.map(hookView), meta: paginationMeta(query, total) });
  });

  app.get('/:id', view, async (c) => c.json({ hook: hookView(await visibleHook(c)) }));

  app.get('/:id/deliveries', view, async (c) => {
    const hook = await visibleHook(c);
    const query = readQuery(c, pageQuery);
    const { deliveries, total } = await listHookDeliveries(db, hook.id, { limit: query.per_page, offset: offsetOf(query) });
    return c.json({ deliveries: deliveries.map(deliveryView), meta: paginationMeta(query, total) });
  });

  app.post('/', manage, async (c) => {
    const { tenant, ...body } = await readJson(c, createBody);
    const tenantId = (await tenantOfNewObject(c, db, tenant)).id;
    const created = await createHook(orders, orderScope(c), { tenantId, ...body });
    return c.json({ hook: hookView(created.hook), signing_secret: created.signingSecret }, 201);
  });

  app.patch('/:id', manage, async (c) => {
    const id = (await visibleHook(c)).id;
    const body = await readJson(c, patchBody);
    return c.json({ hook: hookView(await changeHook(orders, orderScope(c), id, body)) });
  });

  app.delete('/:id', manage, async (c) => {
    await deleteHook(orders, orderScope(c), (await visibleHook(c)).id);
    return c.body(null, 204);
  });

  app.post('/:id/rotate-secret', manage, async (c) => {
    const rotated = await rotateSigningSecret(orders, orderScope(c), (await visibleHook(c)).id);
    return c.json({ hook: hookView(rotated.hook), signing_secret: rotated.signingSecret });
  });

  return app;
}
