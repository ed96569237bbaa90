import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { findDefinition } from '../../settings/registry.ts';
import { SettingsValidationError, type EffectiveSetting } from '../../settings/service.ts';
import { principalOf, requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { notFound, validationError } from '../errors.ts';
import { readJson } from '../validation.ts';

const putBody = z.strictObject({ value: z.json() });
const patchBody = z.strictObject({
  values: z.record(z.string(), z.json()).refine((v) => Object.keys(v).length > 0, 'name at least one setting'),
});

/** Groups settings by namespace, in registry order, for the list endpoint and the admin pages. */
export function groupByNamespace(settings: EffectiveSetting[]) {
  const groups = new Map<string, EffectiveSetting[]>();
  for (const setting of settings) groups.set(setting.namespace, [...(groups.get(setting.namespace) ?? []), setting]);
  return [...groups].map(([namespace, entries]) => ({ namespace, settings: entries }));
}

/** System settings (spec 1.3): reading needs admin scope, writing also `settings.manage`. */
export function settingsRoutes({ settings }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requireAdmin());

  async function write(c: Context<AppEnv>, changes: Record<string, unknown>) {
    try {
      return await settings.update(changes, principalOf(c).actor, c.get('requestId'));
    } catch (error) {
      if (error instanceof SettingsValidationError) {
        throw validationError(error.problems.map((p) => ({ name: p.name, messages: [p.message] })));
      }
      throw error;
    }
  }

  app.get('/', async (c) => c.json({ namespaces: groupByNamespace(await settings.list()) }));

  app.get('/:namespace/:key', async (c) => {
    const setting = await settings.describe(`${c.req.param('namespace')}.${c.req.param('key')}`);
    if (!setting) throw notFound('setting');
    return c.json({ setting });
  });

  app.put('/:namespace/:key', requirePermission('settings.manage'), async (c) => {
    const { namespace, key } = c.req.param();
    const body = await readJson(c, putBody);
    if (!findDefinition(namespace, key)) {
      throw validationError([{ name: `${namespace}.${key}`, messages: ['unknown setting'] }]);
    }
    if (body.value === null) {
      throw validationError([{ name: `${namespace}.${key}`, messages: ['use DELETE to reset a setting to its default'] }]);
    }
    await write(c, { [`${namespace}.${key}`]: body.value });
    return c.json({ setting: await settings.describe(`${namespace}.${key}`) });
  });

  app.patch('/', requirePermission('settings.manage'), async (c) => {
    const body = await readJson(c, patchBody);
    await write(c, body.values);
    const names = new Set(Object.keys(body.values));
    return c.json({ settings: (await settings.list()).filter((s) => names.has(s.name)) });
  });

  app.delete('/:namespace/:key', requirePermission('settings.manage'), async (c) => {
    const name = `${c.req.param('namespace')}.${c.req.param('key')}`;
    if (!(await settings.describe(name))) throw notFound('setting');
    await write(c, { [name]: null });
    return c.json({ setting: await settings.describe(name) });
  });

  return app;
}
