import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { permissions } from '../src/auth/permissions.ts';
import { fromDatabaseError } from '../src/db/errors.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { csrfTokenFor, sessionCookie } from '../src/ui/session.ts';
import { startTestApp, type TestApp, type TestResponse } from './support/app.ts';
import { aPod, aTemplate, aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/**
 * Text PostgreSQL cannot store (a NUL byte), text that is not Unicode (a lone surrogate) and text longer than any
 * field takes are refused once for every route: 400 validation_error naming the field, nothing written, nothing
 * logged as an internal error (issue 14, item 3).
 */
const test = suite('text guard');
let database: TestDatabase;
let app: TestApp;
let tenant: Tenant;
let tenantToken: string;
let adminToken: string;
let podId: string;
let templateCode: string;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  tenant = await aTenant(database.db);
  const template = await aTemplate(database.db);
  templateCode = template.code;
  podId = (await aPod(database.db, { tenant, template })).id;
  const every = [...permissions];
  tenantToken = (await aToken(database.db, { tenant, permissions: every })).token;
  adminToken = (await aToken(database.db, { admin: true, permissions: every })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

/**
 * A bad string as JSON carries it, and percent-encoded (a lone surrogate only as its WTF-8 bytes) in a URL and in
 * a form body, whose fields may be longer than a URL's.
 */
const badStrings = [
  { what: 'a NUL byte', text: 'a\u0000b', url: 'a%00b', form: 'a%00b' },
  { what: 'a lone surrogate', text: 'a\ud800b', url: 'a%ED%A0%80b', form: 'a%ED%A0%80b' },
  { what: 'an over-long string', text: 'x'.repeat(100_000), url: 'x'.repeat(10_000), form: 'x'.repeat(100_000) },
];

/** A good value for each path parameter, so the bad one is the only problem of a probe. */
const goodParams = (): Record<string, string> => ({
  podId, id: '00000000-0000-4000-8000-000000000000', code: templateCode, tenantId: tenant.id,
  namespace: 'platform', key: 'brand_name',
});

interface Probe {
  method: string;
  path: string;
  /** The field the answer must name (a prefix when the name is the bad text itself); null: any answer but a 5xx. */
  field: string | null;
  exact: boolean;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

function fieldNames(response: TestResponse): string[] {
  return response.body?.error?.details?.fields?.map((f: { name: string }) => f.name) ?? [];
}

function send(probe: Probe, token: string): Promise<TestResponse> {
  const headers: Record<string, string> = { cookie: `${sessionCookie}=${token}`, ...probe.headers };
  if (probe.contentType) headers['content-type'] = probe.contentType;
  return app.request(probe.method, probe.path, { token, headers, ...(probe.body === undefined ? {} : { rawBody: probe.body }) });
}

/** Every route the app registers, with each bad string in each path parameter, in the query and in bodies. */
function probesOf(routes: Array<{ method: string; path: string }>, csrf: string): Probe[] {
  const probes: Probe[] = [];
  for (const { method, path } of routes) {
    const params = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const fill = (bad?: { name: string; url: string }) => path.replace(/:(\w+)/g, (_, name: string) => {
      if (bad?.name === name) return bad.url;
      const good = goodParams()[name];
      assert.ok(good, `no good value for the path parameter :${name} of ${method} ${path}: add one to goodParams`);
      return encodeURIComponent(good);
    });
    // Headers that reach SQL are checked where they are read (the idempotency key, the token, the request id); an
    // HTTP header cannot carry a NUL byte or a surrogate, only bytes beyond ASCII and length.
    const headerProbes: Array<Record<string, string>> = method === 'POST'
      ? [{ 'idempotency-key': 'k'.repeat(300) }, { 'idempotency-key': 'cl\u00e9' }]
      : [{ 'x-request-id': 'r\u00e9q' }, { cookie: `${sessionCookie}=cpk_${'\u00e9'.repeat(43)}` }];
    for (const headers of headerProbes) probes.push({ method, path: fill(), field: null, exact: true, headers });
    for (const bad of badStrings) {
      for (const name of params) {
        probes.push({ method, path: fill({ name, url: bad.url }), field: `path.${name}`, exact: true });
      }
      for (const key of ['name', 'tenant', 'q', 'service']) {
        probes.push({ method, path: `${fill()}?${key}=${bad.url}`, field: `query.${key}`, exact: true });
      }
      probes.push({ method, path: `${fill()}?${bad.url}=1`, field: 'query.', exact: false });
      if (method === 'GET') continue;
      const json = (body: unknown, field: string, exact = true) =>
        probes.push({ method, path: fill(), body: JSON.stringify(body), contentType: 'application/json', field, exact });
      json({ name: bad.text }, 'name');
      json({ config: { headers: { 'X-Probe': bad.text } } }, 'config.headers.X-Probe');
      json({ tenant: 'acme', items: [{ code: bad.text }] }, 'items[0].code');
      json({ [bad.text]: 'value' }, '', false);
      probes.push({ method, path: fill(), body: `csrf=${encodeURIComponent(csrf)}&name=${bad.form}`,
        contentType: 'application/x-www-form-urlencoded', field: 'name', exact: true });
    }
  }
  return probes;
}

/** The routes as the app registers them (not a list kept by hand): an app built like the running one. */
function registeredRoutes(): Array<{ method: string; path: string }> {
  const built = app.system.api;
  const seen = new Map<string, { method: string; path: string }>();
  for (const route of built.routes) {
    if (route.method === 'ALL') continue; // middleware
    seen.set(`${route.method} ${route.path}`, { method: route.method, path: route.path });
  }
  return [...seen.values()];
}

async function runAll<T>(items: T[], work: (item: T) => Promise<void>, concurrency = 4): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

test('every route, as a tenant and as an admin: NUL, lone surrogates and over-long strings are 400 naming the field', async () => {
  const routes = registeredRoutes();
  assert.ok(routes.length > 40, `expected the whole API, found ${routes.length} routes`);
  const failures: string[] = [];
  for (const [who, token] of [['tenant', tenantToken], ['admin', adminToken]] as const) {
    const probes = probesOf(routes, csrfTokenFor(token));
    await runAll(probes, async (probe) => {
      const response = await send(probe, token);
      const where = `${who} ${probe.method} ${probe.path.slice(0, 120)}${probe.body ? ` ${probe.body.slice(0, 80)}` : ''}`
        + `${probe.headers ? ` ${JSON.stringify(probe.headers).slice(0, 80)}` : ''}`;
      if (response.status >= 500) {
        failures.push(`${where}: ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
        return;
      }
      // Only the probes and metrics live outside /api and /admin; they read no input.
      if (probe.field === null || !/^\/(api|admin)(\/|$)/.test(probe.path)) return;
      const { field } = probe;
      const names = fieldNames(response);
      const named = probe.exact ? names.includes(field) : names.some((n) => n.startsWith(field));
      if (response.status !== 400 || response.body?.error?.code !== 'validation_error' || !named) {
        failures.push(`${where}: expected 400 validation_error naming ${probe.field}${probe.exact ? '' : '…'}, got `
          + `${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
      }
    });
  }
  assert.equal(failures.slice(0, 40), [], `${failures.length} probes failed`);
  const internal = app.logLines.filter((line) => line.includes('unhandled error answering request'));
  assert.equal(internal.slice(0, 3), [], 'nothing is logged as an internal error');
});

const countRows = async (table: 'api_tokens' | 'cloud_pod_hooks' | 'cloud_resource_plans' | 'tenants' | 'cloud_pods') =>
  Number((await database.db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

test('the reported cases: 400 naming the field, nothing written', async () => {
  const order = { name: 'web', template: 'a\u0000b', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 };
  const hook = { name: 'notify', event: 'pod.post_create', type: 'http', target: 'https://hooks.example.com/cloudpods',
    config: { headers: { 'X-Auth': 'Bearer a\u0000b' } } };
  const plan = { code: 'nul-plan', name: 'Plan a\u0000b', cpu_cores: 1, memory_mb: 1024, disk_gb: 10, price_monthly: '1.00' };
  const cases: Array<[string, string, string, unknown, string, Parameters<typeof countRows>[0] | null]> = [
    ['GET', '/api/cloud-pods?name=%00', tenantToken, undefined, 'query.name', null],
    ['GET', '/api/cloud-pods/templates/%00', tenantToken, undefined, 'path.code', null],
    ['GET', `/api/cloud-pods/tenants/%00/subscriptions`, adminToken, undefined, 'path.tenantId', null],
    ['POST', '/api/tokens', tenantToken, { name: 'a\u0000b' }, 'name', 'api_tokens'],
    ['POST', '/api/tokens', tenantToken, { name: 'a\ud800b' }, 'name', 'api_tokens'],
    ['POST', '/api/cloud-pods/hooks', tenantToken, hook, 'config.headers.X-Auth', 'cloud_pod_hooks'],
    ['POST', '/api/cloud-pods', tenantToken, order, 'template', 'cloud_pods'],
    ['POST', '/api/cloud-pods/plans', adminToken, plan, 'name', 'cloud_resource_plans'],
    ['POST', '/api/cloud-pods/tenants', adminToken, { slug: 'nul-tenant', name: 'a\u0000b' }, 'name', 'tenants'],
  ];
  for (const [method, path, token, body, field, table] of cases) {
    const before = table ? await countRows(table) : 0;
    const response = await app.request(method, path, { token, ...(body === undefined ? {} : { body }) });
    const what = `${method} ${path} ${JSON.stringify(body) ?? ''}`;
    assert.is(response.status, 400, `${what}: ${JSON.stringify(response.body)}`);
    assert.is(response.body.error.code, 'validation_error', what);
    assert.ok(fieldNames(response).includes(field), `${what} names ${field}: ${JSON.stringify(response.body)}`);
    assert.match(response.body.error.message, field, what);
    if (table) assert.is(await countRows(table), before, `${what}: nothing written`);
  }
  assert.equal(app.logLines.filter((line) => line.includes('unhandled error answering request')), []);
});

test('what each refusal says', async () => {
  const messageOf = async (body: unknown) => {
    const response = await app.request('POST', '/api/tokens', { token: tenantToken, body });
    return response.body.error.details.fields;
  };
  assert.equal(await messageOf({ name: 'a\u0000b' }), [{ name: 'name', messages: ['must not contain NUL bytes'] }]);
  assert.equal(await messageOf({ name: 'a\udc00' }),
    [{ name: 'name', messages: ['must be valid Unicode (it has an unpaired surrogate)'] }]);
  assert.equal(await messageOf({ name: 'x'.repeat(70_000) }), [{ name: 'name', messages: ['at most 65536 characters'] }]);
  assert.equal(await messageOf({ 'a\u0000b': 1 }), [{ name: 'a\\u0000b', messages: ['must not contain NUL bytes'] }]);
  const query = await app.request('GET', `/api/cloud-pods?tenant=${'x'.repeat(2000)}`, { token: adminToken });
  assert.equal(query.body.error.details.fields, [{ name: 'query.tenant', messages: ['at most 1024 characters'] }]);
  const path = await app.request('GET', '/api/cloud-pods/templates/%ED%A0%80', { token: tenantToken });
  assert.equal(path.body.error.details.fields, [{ name: 'path.code', messages: ['must be percent-encoded UTF-8'] }]);
});

test('good text passes untouched: accents, emoji and a long SSH key comment reach the route', async () => {
  const response = await app.request('POST', '/api/tokens', { token: tenantToken, body: { name: 'Zoë’s 🚀 token' } });
  assert.is(response.status, 201, JSON.stringify(response.body));
  assert.is(response.body.token.name, 'Zoë’s 🚀 token');
  const listed = await app.request('GET', `/api/cloud-pods?name=${encodeURIComponent('wéb')}`, { token: tenantToken });
  assert.is(listed.status, 200, JSON.stringify(listed.body));
});

test('a NUL that reaches PostgreSQL anyway is 400, not 500 (22021 in text, 22P05 in jsonb)', async () => {
  const inText = await database.db.selectFrom('tenants').select('id').where('name', '=', 'a\u0000b').execute()
    .then(() => null, (error: unknown) => error);
  const inJson = await sql`select ${JSON.stringify({ v: 'a\u0000b' })}::jsonb`.execute(database.db)
    .then(() => null, (error: unknown) => error);
  for (const [what, error, code] of [['text', inText, '22021'], ['jsonb', inJson, '22P05']] as const) {
    assert.is((error as { code?: string })?.code, code, `${what}: PostgreSQL refuses it with ${code}`);
    const mapped = fromDatabaseError(error);
    assert.equal([mapped?.status, mapped?.code], [400, 'validation_error'], what);
  }
});

test.run();
