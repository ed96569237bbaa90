import { spawn } from 'node:child_process';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pruneIdempotencyKeys } from '../src/api/idempotency.ts';
import { freePort } from '../src/net/free-port.ts';
import { subscribe } from '../src/tenancy/subscriptions.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aPlan, aTemplate, aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('Idempotency-Key on POST');
let database: TestDatabase;
let app: TestApp;
let admin: string;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  admin = (await aToken(database.db, { admin: true })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

const tenantCount = async () => (await database.db.selectFrom('tenants').select('id').execute()).length;
const create = (key: string, body: unknown, token = admin) =>
  app.request('POST', '/api/cloud-pods/tenants', { token, body, headers: { 'idempotency-key': key } });

test('a retry with the same key and body gets the first response and creates nothing more', async () => {
  const before = await tenantCount();
  const first = await create('order-1', { slug: 'retry-co', name: 'Retry Co' });
  assert.is(first.status, 201);
  assert.is(first.headers.get('idempotent-replayed'), null);
  const second = await create('order-1', { slug: 'retry-co', name: 'Retry Co' });
  assert.is(second.status, 201);
  assert.is(second.headers.get('idempotent-replayed'), 'true');
  assert.equal(second.body, first.body);
  assert.is(await tenantCount(), before + 1);
});

test('the same key with a different body is refused and writes nothing', async () => {
  assert.is((await create('order-used', { slug: 'first-co', name: 'First Co' })).status, 201);
  const before = await tenantCount();
  const reused = await create('order-used', { slug: 'other-co', name: 'Other Co' });
  assert.is(reused.status, 422);
  assert.equal(reused.body.error.details.fields, [{ name: 'Idempotency-Key', messages: ['already used with a different request'] }]);
  assert.is(await tenantCount(), before);
});

test('refusals before anything is done are not kept: the corrected request goes through under the same key', async () => {
  const bad = await create('order-2', { slug: 'Bad Slug' });
  assert.is(bad.status, 400);
  const corrected = await create('order-2', { slug: 'corrected-co', name: 'Corrected Co' });
  assert.equal([corrected.status, corrected.headers.get('idempotent-replayed')], [201, null]);
  assert.is(corrected.body.tenant.slug, 'corrected-co');

  const tenantToken = (await aToken(database.db, { tenant: await aTenant(database.db) })).token;
  const denied = await create('order-3', { slug: 'denied-co', name: 'Denied' }, tenantToken);
  assert.is(denied.status, 403);
  const stored = await database.db.selectFrom('idempotency_keys').select('key').where('key', 'in', ['order-2', 'order-3'])
    .where('state', '=', 'completed').execute();
  assert.equal(stored.map((row) => row.key), ['order-2'], 'only the answer of the request carried out is kept');
});

test('keys belong to their token: another token neither gets its replay nor is blocked by its refusal', async () => {
  const acme = await aTenant(database.db);
  const plan = await aPlan(database.db, { cpu_cores: 4, memory_mb: 8192, disk_gb: 100, ipv4_count: 4 });
  await subscribe(database.db, { tenantId: acme.id, planId: plan.id, quantity: 1 }, { type: 'system', id: 'test' });
  const template = await aTemplate(database.db);
  const manager = (await aToken(database.db, { tenant: acme, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  const viewer = (await aToken(database.db, { tenant: acme, permissions: ['cloudpods.view'] })).token;
  const order = (name: string, token: string, key: string) => app.request('POST', '/api/cloud-pods', { token,
    body: { name, template: template.code, cpu_cores: 1, memory_mb: 1024, disk_gb: 10 },
    headers: { 'idempotency-key': key } });

  const ordered = await order('keyed-1', manager, 'pod-order-1');
  assert.is(ordered.status, 202);
  const stolen = await order('keyed-1', viewer, 'pod-order-1');
  assert.equal([stolen.status, stolen.headers.get('idempotent-replayed')], [403, null], 'no replay of another token');
  assert.equal(stolen.body.error.details.missing, ['cloudpods.manage']);

  const refused = await order('keyed-2', viewer, 'pod-order-2');
  assert.is(refused.status, 403);
  const allowed = await order('keyed-2', manager, 'pod-order-2');
  assert.equal([allowed.status, allowed.headers.get('idempotent-replayed')], [202, null], 'the 403 held nothing');
  assert.is(allowed.body.pod.name, 'keyed-2');
});

test('every POST under /api honours the key after its guards, except answers holding a secret', () => {
  const api = app.system.api;
  const matches = (pattern: string, path: string) => new RegExp(`^${pattern.replace(/\/\*$/, '(/.*)?')
    .replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`).test(path);
  const guards = ['checkPermissions', 'checkAnyPermission', 'checkAdmin'];
  const withSecret = ['/api/tokens', '/api/cloud-pods/hooks', '/api/cloud-pods/hooks/:id/rotate-secret'];
  const posts = [...new Set(api.routes.filter((r) => r.method === 'POST' && r.path.startsWith('/api/')).map((r) => r.path))];
  assert.ok(posts.length >= 20, `POST routes found: ${posts.length}`);
  for (const path of posts) {
    const chain = api.routes.filter((r) => (r.method === 'POST' && r.path === path)
      || (r.method === 'ALL' && matches(r.path, path))).map((r) => r.handler.name);
    const replay = chain.indexOf('replayOrRecord');
    if (withSecret.includes(path)) {
      assert.is(replay, -1, `${path} holds a secret: never replayed`);
      continue;
    }
    assert.ok(replay > chain.indexOf('authenticateRequest'), `${path}: ${chain.join(' > ')}`);
    assert.ok(chain.slice(0, replay).some((name) => guards.includes(name)), `${path} checks permissions first: ${chain.join(' > ')}`);
    assert.not.ok(chain.slice(replay).some((name) => guards.includes(name)), `${path}: no guard after the replay`);
  }
});

test('a key left in progress by a process killed with SIGKILL is free again within seconds', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [new URL('../src/cli.ts', import.meta.url).pathname, 'serve'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, CLOUDPODS_HOST: '127.0.0.1',
      CLOUDPODS_PORT: String(port), LOG_LEVEL: 'warn' },
  });
  child.stderr!.resume();
  // A competing transaction holds the slug, so the other process's request waits inside its handler.
  const blocker = new pg.Client({ connectionString: database.url });
  try {
    await waitFor('the other process to serve', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status,
      (status) => status === 200, { timeoutMs: 30_000 });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query(`insert into tenants (slug, name) values ('crash-co', 'Crash Co')`);
    const body = { slug: 'crash-co', name: 'Crash Co' };
    fetch(`http://127.0.0.1:${port}/api/cloud-pods/tenants`, { method: 'POST', body: JSON.stringify(body),
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'idempotency-key': 'crash-1' } })
      .catch(() => {}); // it never answers: its process is killed
    await waitFor('the key to be in progress', () => database.db.selectFrom('idempotency_keys').select('state')
      .where('key', '=', 'crash-1').executeTakeFirst(), (row) => row?.state === 'in_progress');
    const meanwhile = await create('crash-1', body);
    assert.equal([meanwhile.status, meanwhile.body.error.code], [409, 'conflict'], 'its process is alive: still its own');

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await blocker.query('rollback');
    const retried = await waitFor('the retry to be answered', () => create('crash-1', body),
      (response) => response.status !== 409, { timeoutMs: 10_000 });
    assert.is(retried.status, 201, JSON.stringify(retried.body));
    const tenants = await database.db.selectFrom('tenants').select('id').where('slug', '=', 'crash-co').execute();
    assert.is(tenants.length, 1);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await blocker.end().catch(() => {});
  }
});

test('malformed keys are 400; requests without a key or other methods are untouched', async () => {
  const tooLong = await create('x'.repeat(256), { slug: 'long-key', name: 'L' });
  assert.is(tooLong.status, 400);
  assert.is(tooLong.body.error.details.fields[0].name, 'Idempotency-Key');
  const plain = await app.request('POST', '/api/cloud-pods/tenants', { token: admin, body: { slug: 'no-key', name: 'N' } });
  assert.is(plain.status, 201);
  const tenantToken = (await aToken(database.db, { tenant: await aTenant(database.db) })).token;
  const secret = await app.request('POST', '/api/tokens', { token: tenantToken, body: { name: 'bot' },
    headers: { 'idempotency-key': 'token-1' } });
  assert.is(secret.status, 201);
  const stored = await database.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'token-1').execute();
  assert.equal(stored, [], 'a response carrying a secret is never stored');
});

test('expired keys are pruned; live ones stay', async () => {
  await database.db.insertInto('idempotency_keys').values({ scope: 'token:x', key: 'old', method: 'POST', path: '/api/x',
    request_hash: 'h', expires_at: new Date(Date.now() - 1000) }).execute();
  const live = (await database.db.selectFrom('idempotency_keys').select('id').execute()).length - 1;
  assert.is(await pruneIdempotencyKeys(database.db), 1);
  assert.is((await database.db.selectFrom('idempotency_keys').select('id').execute()).length, live);
});

test.run();
