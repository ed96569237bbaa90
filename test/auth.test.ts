import { Hono } from 'hono';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { authenticate, requireAdmin, requirePermission } from '../src/api/auth.ts';
import type { AppEnv } from '../src/api/context.ts';
import { errorHandler } from '../src/api/errors.ts';
import { generateToken, hashToken } from '../src/auth/tokens.ts';
import { createLogger } from '../src/observability/logger.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

const test = suite('authentication and authorisation');
let database: TestDatabase;
let app: TestApp;
let acme: Tenant;
let globex: Tenant;
let acmeToken: string;
let adminToken: string;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  acme = await aTenant(database.db, 'acme');
  globex = await aTenant(database.db, 'globex');
  acmeToken = (await aToken(database.db, { tenant: acme, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  adminToken = (await aToken(database.db, { admin: true, permissions: ['cloudpods.view', 'settings.manage'] })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

async function expect401(headers: Record<string, string>, message: RegExp): Promise<void> {
  const response = await app.request('GET', '/api/me', { headers });
  assert.is(response.status, 401);
  assert.is(response.body.error.code, 'unauthorized');
  assert.match(response.body.error.message, message);
  assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="cloudpods"/);
}

test('a missing token is 401', () => expect401({}, /authentication required/));

test('a malformed Authorization header or token is 401', async () => {
  await expect401({ authorization: 'Basic dXNlcjpwYXNz' }, /must be "Bearer <token>"/);
  await expect401({ authorization: 'Bearer not-a-token' }, /malformed/);
});

test('an unknown token is 401', () => expect401({ authorization: `Bearer ${generateToken()}` }, /not known/));

test('an expired token is 401', async () => {
  const { token } = await aToken(database.db, { tenant: acme, expiresAt: new Date(Date.now() - 1000) });
  await expect401({ authorization: `Bearer ${token}` }, /expired/);
});

test('a revoked token is 401, and revocation is audited with its actor', async () => {
  const { token, record } = await aToken(database.db, { tenant: acme, permissions: ['cloudpods.view'] });
  assert.is((await app.request('GET', '/api/me', { token })).status, 200);
  const revoked = await app.request('DELETE', `/api/tokens/${record.id}`, { token: acmeToken });
  assert.is(revoked.status, 204);
  await expect401({ authorization: `Bearer ${token}` }, /revoked/);
  const audit = await database.db.selectFrom('cloud_pod_audit').selectAll()
    .where('action', '=', 'token.revoked').execute();
  const entry = audit.find((a) => (a.details as any).token_id === record.id);
  assert.ok(entry, 'audit entry for the revocation');
  assert.is(entry!.category, 'auth');
  assert.is(entry!.actor_type, 'token');
  assert.is(entry!.tenant_id, acme.id);
});

test('only the hash of a token is stored', async () => {
  const { token, record } = await aToken(database.db, { tenant: acme });
  const row = await database.db.selectFrom('api_tokens').selectAll().where('id', '=', record.id).executeTakeFirstOrThrow();
  assert.is(row.token_hash, hashToken(token));
  assert.not.ok(JSON.stringify(row).includes(token.slice(12)), 'no part of the secret beyond the prefix is stored');
});

test('/api/me describes the caller', async () => {
  const response = await app.request('GET', '/api/me', { token: acmeToken });
  assert.is(response.status, 200);
  assert.equal(response.body.principal.tenant, { id: acme.id, slug: 'acme', name: acme.name, status: 'active' });
  assert.equal(response.body.principal.permissions, ['cloudpods.manage', 'cloudpods.view']);
  assert.is(response.body.principal.admin, false);
});

test('a route guarded by a permission answers 403 naming what is missing', async () => {
  const guarded = new Hono<AppEnv>();
  const logger = createLogger({ level: 'silent' });
  guarded.use('*', authenticate(database.db, logger));
  guarded.get('/settings', requirePermission('settings.manage'), (c) => c.json({ ok: true }));
  guarded.get('/fleet', requireAdmin(), (c) => c.json({ ok: true }));
  guarded.onError(errorHandler(logger));
  const call = (path: string, token: string) =>
    guarded.request(path, { headers: { authorization: `Bearer ${token}` } });

  const denied = await call('/settings', acmeToken);
  assert.is(denied.status, 403);
  const body = await denied.json() as any;
  assert.is(body.error.code, 'forbidden');
  assert.equal(body.error.details.missing, ['settings.manage']);
  assert.is((await call('/settings', adminToken)).status, 200);
  assert.is((await call('/fleet', acmeToken)).status, 403);
  assert.is((await call('/fleet', adminToken)).status, 200);
});

test('a token cannot grant what it does not hold (403)', async () => {
  const more = await app.request('POST', '/api/tokens', {
    token: acmeToken, body: { name: 'sneaky', permissions: ['cloudpods.view', 'settings.manage'] },
  });
  assert.is(more.status, 403);
  assert.equal(more.body.error.details.missing, ['settings.manage']);
  const admin = await app.request('POST', '/api/tokens', { token: acmeToken, body: { name: 'x', admin: true } });
  assert.is(admin.status, 403);
});

test('a tenant creates tokens for itself; the secret is shown once and works', async () => {
  const created = await app.request('POST', '/api/tokens', {
    token: acmeToken, body: { name: 'deploy bot', permissions: ['cloudpods.view'], expires_in: '30d' },
  });
  assert.is(created.status, 201);
  assert.match(created.body.secret, /^cpk_[A-Za-z0-9_-]{43}$/);
  assert.is(created.body.token.tenant_id, acme.id);
  assert.is(created.body.token.token_hash, undefined);
  const expires = new Date(created.body.token.expires_at).getTime();
  assert.ok(Math.abs(expires - (Date.now() + 30 * 86_400_000)) < 60_000);
  const me = await app.request('GET', '/api/me', { token: created.body.secret });
  assert.is(me.body.principal.token_name, 'deploy bot');
  const shown = await app.request('GET', `/api/tokens/${created.body.token.id}`, { token: acmeToken });
  assert.is(shown.body.secret, undefined);
});

test('a token creates tokens that expire no later than itself', async () => {
  const expiresAt = new Date(Date.now() + 3_600_000);
  const { token: shortLived } = await aToken(database.db, { tenant: acme, permissions: ['cloudpods.view'], expiresAt });
  const create = (body: Record<string, unknown>) =>
    app.request('POST', '/api/tokens', { token: shortLived, body: { permissions: ['cloudpods.view'], ...body } });

  const inherited = await create({ name: 'no expiry asked' });
  assert.is(inherited.status, 201);
  assert.is(new Date(inherited.body.token.expires_at).getTime(), expiresAt.getTime(), 'expires with its issuer');
  const shorter = await create({ name: 'half an hour', expires_in: '30m' });
  assert.is(shorter.status, 201);
  assert.ok(Math.abs(new Date(shorter.body.token.expires_at).getTime() - (Date.now() + 1_800_000)) < 60_000);

  const longer = await create({ name: 'outlives me', expires_in: '30d' });
  assert.is(longer.status, 403);
  assert.is(longer.body.error.code, 'forbidden');
  assert.match(longer.body.error.message, /expires_in must end by/);
  assert.is(longer.body.error.details.field, 'expires_in');
  assert.is(longer.body.error.details.latest_expires_at, expiresAt.toISOString());
  const written = await database.db.selectFrom('api_tokens').select('id').where('name', '=', 'outlives me').execute();
  assert.equal(written, [], 'nothing is written');

  const permanent = await app.request('POST', '/api/tokens', { token: acmeToken, body: { name: 'forever' } });
  assert.is(permanent.body.token.expires_at, null, 'a token without expiry still issues tokens without one');
});

test('a token lists and revokes only tokens whose permissions and admin scope it holds; any token revokes itself', async () => {
  const strong = await aToken(database.db, { tenant: acme, name: 'automation',
    permissions: ['cloudpods.view', 'cloudpods.manage'] });
  const tenantAdmin = await aToken(database.db, { tenant: acme, name: 'tenant admin', admin: true,
    permissions: ['cloudpods.view', 'cloudpods.manage'] });
  const readOnly = await aToken(database.db, { tenant: acme, name: 'read only', permissions: ['cloudpods.view'] });
  const powerless = await aToken(database.db, { tenant: acme, name: 'powerless' });
  const ids = async (token: string) =>
    ((await app.request('GET', '/api/tokens?per_page=100', { token })).body.tokens as any[]).map((t) => t.id);

  const seenByReadOnly = await ids(readOnly.token);
  assert.ok(seenByReadOnly.includes(readOnly.record.id) && seenByReadOnly.includes(powerless.record.id));
  assert.not.ok(seenByReadOnly.includes(strong.record.id), 'a stronger token is not listed');
  assert.not.ok(seenByReadOnly.includes(tenantAdmin.record.id));
  const seenByPowerless = (await app.request('GET', '/api/tokens?per_page=100', { token: powerless.token })).body.tokens;
  assert.ok(seenByPowerless.some((t: any) => t.id === powerless.record.id));
  assert.ok(seenByPowerless.every((t: any) => t.permissions.length === 0 && !t.is_admin),
    'a token without permissions sees only tokens without any');
  assert.ok((await ids(strong.token)).includes(readOnly.record.id));
  assert.not.ok((await ids(strong.token)).includes(tenantAdmin.record.id), 'admin scope must be held too');

  for (const [caller, target] of [[readOnly, strong], [powerless, readOnly], [strong, tenantAdmin]] as const) {
    const shown = await app.request('GET', `/api/tokens/${target.record.id}`, { token: caller.token });
    const revoked = await app.request('DELETE', `/api/tokens/${target.record.id}`, { token: caller.token });
    assert.equal([shown.status, revoked.status], [404, 404], `${caller.record.name} on ${target.record.name}`);
    assert.is((await app.request('GET', '/api/me', { token: target.token })).status, 200, 'still works');
  }

  assert.is((await app.request('DELETE', `/api/tokens/${powerless.record.id}`, { token: powerless.token })).status, 204);
  assert.is((await app.request('GET', '/api/me', { token: powerless.token })).status, 401, 'revoked itself');
  assert.is((await app.request('DELETE', `/api/tokens/${readOnly.record.id}`, { token: strong.token })).status, 204);
  assert.is((await app.request('DELETE', `/api/tokens/${strong.record.id}`, { token: tenantAdmin.token })).status, 204);
});

test("another tenant's objects answer 404, never 403", async () => {
  const { record } = await aToken(database.db, { tenant: globex, name: 'globex token' });
  for (const [method, path] of [['GET', `/api/tokens/${record.id}`], ['DELETE', `/api/tokens/${record.id}`],
    ['GET', `/api/tokens?tenant=globex`]] as const) {
    const response = await app.request(method, path, { token: acmeToken });
    assert.is(response.status, 404, `${method} ${path}`);
    assert.is(response.body.error.code, 'not_found');
  }
  const listed = await app.request('GET', '/api/tokens', { token: acmeToken });
  assert.ok(listed.body.tokens.every((t: any) => t.tenant_id === acme.id));
  const stillThere = await database.db.selectFrom('api_tokens').select('revoked_at').where('id', '=', record.id)
    .executeTakeFirstOrThrow();
  assert.is(stillThere.revoked_at, null);
});

test('admins see every tenant and mint tokens for any of them', async () => {
  await aToken(database.db, { tenant: globex });
  const listed = await app.request('GET', '/api/tokens?tenant=globex', { token: adminToken });
  assert.is(listed.status, 200);
  assert.ok(listed.body.tokens.length >= 1);
  const created = await app.request('POST', '/api/tokens', {
    token: adminToken, body: { name: 'for globex', tenant: 'globex', permissions: ['cloudpods.view'] },
  });
  assert.is(created.status, 201);
  assert.is(created.body.token.tenant_id, globex.id);
  const noTenant = await app.request('POST', '/api/tokens', { token: adminToken, body: { name: 'orphan' } });
  assert.is(noTenant.status, 400);
  assert.equal(noTenant.body.error.details.fields, [{ name: 'tenant', messages: ['required unless admin is true'] }]);
});

test.run();
