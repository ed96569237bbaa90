import { Hono } from 'hono';
import { z } from 'zod';
import { templateTypes } from '../../db/schema.ts';
import { findPlan } from '../../tenancy/plans.ts';
import { appStacks } from '../../tenancy/stacks.ts';
import { createTemplate, findTemplate, listTemplates, updateTemplate, type TemplateFields }
  from '../../tenancy/templates.ts';
import { principalOf, requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { ApiError, notFound, validationError } from '../errors.ts';
import { readJson, readQuery } from '../validation.ts';

const name = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`);
const proxmoxName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/, 'expected a Proxmox node, storage or bridge name');
const templateFields = {
  name: name(100),
  description: z.string().max(2000, 'at most 2000 characters').nullable().optional(),
  proxmox_template_vmid: z.number().int('expected a whole number').min(100, 'expected 100 or more')
    .max(999_999_999, 'expected at most 999999999'),
  default_node: proxmoxName.nullable().optional(),
  storage_pool: proxmoxName,
  network_bridge: proxmoxName,
  app_stack: z.enum(appStacks, { error: `expected one of ${appStacks.join(', ')}` }).nullable().optional(),
  minimum_plan_code: z.string().min(1).nullable().optional(),
  tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]{0,31}$/, 'expected a short lower-case tag')).max(20).optional(),
  is_active: z.boolean().optional(),
};
/** Like a slug, but dots are allowed for versions: `ubuntu-24.04`. */
const templateCode = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/,
  'expected lower-case letters, digits, dots and inner hyphens, at most 63 characters');

const createBody = z.strictObject({
  code: templateCode, type: z.enum(templateTypes, { error: 'expected os or app' }), ...templateFields,
}).refine((v) => v.type !== 'app' || v.app_stack, { message: 'required for app templates', path: ['app_stack'] })
  .refine((v) => v.type !== 'os' || !v.app_stack, { message: 'only app templates have a stack', path: ['app_stack'] });
const patchBody = z.strictObject(templateFields).partial()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change');

/** Templates v2 (spec 4): everyone reads the active catalogue; admins with plans.manage curate it. */
export function templateRoutes({ db, presence, cluster }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const manage = [requireAdmin(), requirePermission('plans.manage')] as const;

  async function checkPlan(code: string | null | undefined): Promise<void> {
    if (code && !(await findPlan(db, code))) {
      throw validationError([{ name: 'minimum_plan_code', messages: ['no such plan'] }]);
    }
  }

  app.get('/', async (c) => {
    const query = readQuery(c, z.strictObject({
      type: z.enum(templateTypes, { error: 'expected os or app' }).optional(),
      tag: z.string().min(1).max(32).optional(),
      include_inactive: z.enum(['true', 'false']).default('false'),
    }));
    const includeInactive = query.include_inactive === 'true' && principalOf(c).isAdmin;
    return c.json({ templates: await listTemplates(db, { type: query.type, tag: query.tag, includeInactive }) });
  });

  app.get('/:code', async (c) => {
    const template = await findTemplate(db, c.req.param('code'));
    if (!template || (!template.is_active && !principalOf(c).isAdmin)) throw notFound('template');
    return c.json({ template });
  });

  app.post('/', ...manage, idempotent({ db, presence }), async (c) => {
    const body = await readJson(c, createBody);
    await checkPlan(body.minimum_plan_code);
    if (await findTemplate(db, body.code)) {
      throw new ApiError(409, 'conflict', `a template with code ${body.code} exists`, { field: 'code' });
    }
    return c.json({ template: await createTemplate(db, body as TemplateFields, principalOf(c).actor, cluster) }, 201);
  });

  app.patch('/:code', ...manage, async (c) => {
    const body = await readJson(c, patchBody);
    await checkPlan(body.minimum_plan_code);
    const current = await findTemplate(db, c.req.param('code'));
    if (!current) throw notFound('template');
    const stack = body.app_stack === undefined ? current.app_stack : body.app_stack;
    if (current.type === 'app' && !stack) throw validationError([{ name: 'app_stack', messages: ['required for app templates'] }]);
    if (current.type === 'os' && stack) throw validationError([{ name: 'app_stack', messages: ['only app templates have a stack'] }]);
    return c.json({ template: await updateTemplate(db, current.code, body, principalOf(c).actor, cluster) });
  });

  return app;
}
