import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { checkToken } from '../auth/tokens.ts';
import { systemEventLevels, type SystemEventLevel } from '../db/schema.ts';
import type { ApiDeps } from '../api/context.ts';
import { refuseUnsafeText } from '../api/middleware/text-guard.ts';
import { offsetOf, paginationMeta } from '../api/pagination.ts';
import { groupByNamespace } from '../api/routes/settings.ts';
import { queueOverview } from '../jobs/admin.ts';
import { eventServices, listSystemEvents, type SystemEventFilter } from '../observability/events-query.ts';
import type { SystemSettingsService } from '../settings/service.ts';
import { coerceFormValue } from '../settings/validate.ts';
import { definitionByName } from '../settings/registry.ts';
import type { Branding } from './layout.ts';
import { adminOverview } from '../dashboard/overview.ts';
import { dashboardPage } from './pages/dashboard.ts';
import { forbiddenPage } from './pages/forbidden.ts';
import { healthPage } from './pages/health.ts';
import { loginPage } from './pages/login.ts';
import { settingsPage } from './pages/settings.ts';
import { clearSession, csrfTokenFor, csrfValid, requireSession, setSession, type AdminEnv } from './session.ts';

async function branding(settings: SystemSettingsService): Promise<Branding> {
  const [brandName, primaryColor, timezone, supportEmail] = await Promise.all([
    settings.getString('platform.brand_name'), settings.getString('platform.primary_color'),
    settings.getString('platform.timezone'), settings.getString('platform.support_email'),
  ]);
  return { brandName, primaryColor, timezone, supportEmail };
}

const eventsPerPage = 50;

/** The admin pages: sign-in, system settings and system health (spec 1.3 and 5.2). */
export function adminRoutes({ db, settings, config }: ApiDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.use('*', bodyLimit({ maxSize: config.server.bodyLimitBytes }));
  app.use('*', refuseUnsafeText());

  const forbidden = async (c: Context<AdminEnv>, message: string) =>
    c.html(forbiddenPage(await branding(settings), csrfTokenFor(c.get('sessionToken')), message), 403);

  /** Form posts must carry the session's CSRF token; a missing or wrong one changes nothing. */
  async function formWithCsrf(c: Context<AdminEnv>): Promise<Record<string, string> | null> {
    const form = await c.req.parseBody();
    if (!csrfValid(c.get('sessionToken'), form.csrf)) return null;
    return Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }

  app.get('/', (c) => c.redirect('/admin/dashboard', 303));

  app.get('/login', async (c) => c.html(loginPage(await branding(settings), c.req.query('reason'))));

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const check = await checkToken(db, token);
    if (!check.ok || !check.token.is_admin) {
      return c.html(loginPage(await branding(settings), check.ok ? 'not-admin' : check.reason), 401);
    }
    setSession(c, token, await settings.getNumber('security.admin_session_hours'));
    return c.redirect('/admin/settings', 303);
  });

  app.use('/settings/*', requireSession(db));
  app.use('/settings', requireSession(db));
  app.use('/health', requireSession(db));
  app.use('/dashboard', requireSession(db));
  app.use('/logout', requireSession(db));

  app.post('/logout', async (c) => {
    if (!(await formWithCsrf(c))) return forbidden(c, 'The form was stale or not ours: reload the page and try again.');
    clearSession(c);
    return c.redirect('/admin/login?reason=signed-out', 303);
  });

  app.get('/settings', async (c) => c.html(settingsPage({
    branding: await branding(settings),
    csrf: csrfTokenFor(c.get('sessionToken')),
    groups: groupByNamespace(await settings.list()),
    canEdit: c.get('principal').permissions.has('settings.manage'),
    saved: c.req.query('saved'),
  })));

  app.post('/settings/:namespace', async (c) => {
    const form = await formWithCsrf(c);
    if (!form) return forbidden(c, 'The form was stale or not ours: reload the page and try again.');
    const principal = c.get('principal');
    if (!principal.permissions.has('settings.manage')) return forbidden(c, 'Changing settings needs a token with settings.manage.');
    const namespace = c.req.param('namespace');
    const current = (await settings.list()).filter((s) => s.namespace === namespace);
    const errors = new Map<string, { text: string; message: string }>();
    const changes: Record<string, unknown> = {};
    for (const setting of current) {
      const text = form[setting.key];
      const definition = definitionByName(setting.name);
      if (text === undefined || !definition) continue;
      const coerced = coerceFormValue(definition, text);
      if (!coerced.ok) errors.set(setting.name, { text, message: coerced.message });
      else if (JSON.stringify(coerced.value) !== JSON.stringify(setting.value)) changes[setting.name] = coerced.value;
    }
    if (errors.size > 0) {
      return c.html(settingsPage({
        branding: await branding(settings), csrf: csrfTokenFor(c.get('sessionToken')),
        groups: groupByNamespace(await settings.list()), canEdit: true, errors, errorNamespace: namespace,
      }), 400);
    }
    await settings.update(changes, principal.actor, c.get('requestId'));
    return c.redirect(`/admin/settings?saved=${encodeURIComponent(namespace)}#ns-${namespace}`, 303);
  });

  app.get('/dashboard', async (c) => {
    const { permissions } = c.get('principal');
    if (!permissions.has('cloudpods.view') || !permissions.has('health.view')) {
      return forbidden(c, 'The dashboard needs a token with cloudpods.view and health.view.');
    }
    return c.html(dashboardPage(await branding(settings), csrfTokenFor(c.get('sessionToken')), await adminOverview(db)));
  });

  app.get('/health', async (c) => {
    if (!c.get('principal').permissions.has('health.view')) return forbidden(c, 'The health page needs a token with health.view.');
    const query = c.req.query();
    const problems: string[] = [];
    const filter: SystemEventFilter = {};
    if (query.service) filter.service = query.service;
    if (query.q) filter.q = query.q.slice(0, 200);
    if (query.level) {
      if ((systemEventLevels as readonly string[]).includes(query.level)) filter.level = query.level as SystemEventLevel;
      else problems.push(`unknown level ${query.level}`);
    }
    const pageNumber = Math.max(1, Number.parseInt(query.page ?? '1', 10) || 1);
    const page = { page: pageNumber, per_page: eventsPerPage };
    const [{ events, total }, services, queues] = await Promise.all([
      listSystemEvents(db, filter, { limit: eventsPerPage, offset: offsetOf(page) }),
      eventServices(db),
      queueOverview(db),
    ]);
    const filterQuery = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined)
      .map(([k, v]): [string, string] => [k, String(v)])).toString();
    return c.html(healthPage({
      branding: await branding(settings), csrf: csrfTokenFor(c.get('sessionToken')), filter, services, events,
      page: pageNumber, lastPage: paginationMeta(page, total).pagination.last_page, total, filterQuery, problems, queues,
    }));
  });

  return app;
}
