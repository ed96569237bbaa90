import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../src/observability/logger.ts';
import { settingDefinitions, fullName } from '../src/settings/registry.ts';
import { SettingsValidationError, SystemSettingsService } from '../src/settings/service.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { waitFor } from './support/wait.ts';

const test = suite('system settings');
let database: TestDatabase;
let app: TestApp;
let manager: string;
let reader: string;
let tenantManager: string;
const silent = createLogger({ level: 'silent' });

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  manager = (await aToken(database.db, { admin: true, permissions: ['settings.manage'] })).token;
  reader = (await aToken(database.db, { admin: true })).token;
  tenantManager = (await aToken(database.db, { tenant: await aTenant(database.db), permissions: ['settings.manage'] }))
    .token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

const settings = () => app.system.settings;
/** Settings are the database's, shared by every test: each test first sets the values it starts from (null: the default). */
const startFrom = (values: Record<string, unknown>) => settings().update(values, { type: 'system', id: 'test' });

test('every key of spec 1.4 is registered', () => {
  const names = settingDefinitions.map(fullName);
  for (const name of ['cloudpods.auto_heal.enabled', 'cloudpods.auto_heal.failure_threshold',
    'cloudpods.backup.default_retention_count', 'cloudpods.metrics.sample_interval_seconds',
    'cloudpods.audit.retention_days', 'cloudpods.webhooks.max_attempts',
    'cloudpods.webhooks.initial_retry_delay_seconds', 'platform.timezone', 'platform.brand_name',
    'platform.primary_color']) {
    assert.ok(names.includes(name), name);
  }
  assert.is(new Set(names).size, names.length, 'no key is registered twice');
});

test('typed reads return the default until a value is stored, then the value', async () => {
  await startFrom({ 'cloudpods.auto_heal.enabled': null, 'cloudpods.auto_heal.failure_threshold': null, 'platform.brand_name': null });
  assert.is(await settings().getBoolean('cloudpods.auto_heal.enabled'), true);
  assert.is(await settings().getNumber('cloudpods.auto_heal.failure_threshold'), 3);
  assert.is(await settings().getString('platform.brand_name'), 'CloudPods');
  await settings().update({ 'cloudpods.auto_heal.enabled': false, 'cloudpods.auto_heal.failure_threshold': 5,
    'platform.brand_name': 'Acme Cloud' }, { type: 'system', id: 'test' });
  assert.is(await settings().getBoolean('cloudpods.auto_heal.enabled'), false);
  assert.is(await settings().getNumber('cloudpods.auto_heal.failure_threshold'), 5);
  assert.is(await settings().getString('platform.brand_name'), 'Acme Cloud');
  const row = await database.db.selectFrom('system_settings').selectAll()
    .where('namespace', '=', 'cloudpods').where('key', '=', 'auto_heal.failure_threshold').executeTakeFirstOrThrow();
  assert.equal([row.value, row.value_type, row.updated_by], [5, 'number', 'system:test']);
});

test('reading with the wrong type or an unknown key is a programming error', async () => {
  try {
    await settings().getString('cloudpods.auto_heal.enabled');
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /is a boolean, not a string/);
  }
  try {
    await settings().getNumber('cloudpods.nope');
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /unknown setting cloudpods\.nope/);
  }
});

test('GET lists every key grouped by namespace with value, default, type, description and who changed it', async () => {
  await startFrom({ 'cloudpods.auto_heal.failure_threshold': 5, 'platform.primary_color': null });
  const response = await app.request('GET', '/api/admin/settings', { token: reader });
  assert.is(response.status, 200);
  const namespaces = response.body.namespaces.map((n: any) => n.namespace);
  assert.equal(namespaces, [...new Set(settingDefinitions.map((d) => d.namespace))]);
  const all = response.body.namespaces.flatMap((n: any) => n.settings);
  assert.is(all.length, settingDefinitions.length);
  const threshold = all.find((s: any) => s.name === 'cloudpods.auto_heal.failure_threshold');
  assert.equal({ ...threshold, updated_at: typeof threshold.updated_at }, {
    name: 'cloudpods.auto_heal.failure_threshold', namespace: 'cloudpods', key: 'auto_heal.failure_threshold',
    type: 'number', description: threshold.description, value: 5, default: 3, is_default: false,
    constraints: { min: 1, max: 100, integer: true, unit: 'failures' }, updated_by: 'system:test', updated_at: 'string',
  });
  const one = await app.request('GET', '/api/admin/settings/platform/primary_color', { token: reader });
  assert.equal([one.body.setting.value, one.body.setting.is_default], ['#2563eb', true]);
  assert.is((await app.request('GET', '/api/admin/settings/platform/nope', { token: reader })).status, 404);
});

test('each validation failure is 400 naming the key, and writes nothing', async () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['cloudpods/auto_heal.enabled', 'yes', /expected true or false/],
    ['cloudpods/auto_heal.failure_threshold', 0, /expected a number from 1 to 100/],
    ['cloudpods/auto_heal.failure_threshold', 2.5, /expected a whole number/],
    ['cloudpods/audit.retention_days', '30', /expected a number/],
    ['platform/primary_color', 'blue', /expected a colour such as #2563eb/],
    ['platform/timezone', 'Mars/Olympus', /expected an IANA time zone/],
    ['platform/support_email', 'help at example', /expected an e-mail address/],
    ['platform/brand_name', 'x'.repeat(81), /at most 80 characters/],
    ['cloudpods/not_a_key', 1, /unknown setting/],
  ];
  const before = await database.db.selectFrom('system_settings').selectAll().orderBy('id').execute();
  for (const [path, value, message] of cases) {
    const response = await app.request('PUT', `/api/admin/settings/${path}`, { token: manager, body: { value } });
    assert.is(response.status, 400, path);
    assert.is(response.body.error.code, 'validation_error');
    const [field] = response.body.error.details.fields;
    assert.is(field.name, path.replace('/', '.'));
    assert.match(field.messages[0], message);
  }
  const after = await database.db.selectFrom('system_settings').selectAll().orderBy('id').execute();
  assert.equal(after, before);
});

test('permissions: reading needs admin scope, writing also settings.manage', async () => {
  const body = { value: 4 };
  const path = '/api/admin/settings/cloudpods/auto_heal.failure_threshold';
  assert.is((await app.request('GET', '/api/admin/settings', { token: tenantManager })).status, 403);
  assert.is((await app.request('PUT', path, { token: tenantManager, body })).status, 403);
  const denied = await app.request('PUT', path, { token: reader, body });
  assert.is(denied.status, 403);
  assert.equal(denied.body.error.details.missing, ['settings.manage']);
  const ok = await app.request('PUT', path, { token: manager, body });
  assert.is(ok.status, 200);
  assert.is(ok.body.setting.value, 4);
});

test('a batch applies every key or none', async () => {
  await startFrom({ 'cloudpods.audit.retention_days': null, 'platform.primary_color': null });
  const failed = await app.request('PATCH', '/api/admin/settings', { token: manager, body: { values: {
    'cloudpods.audit.retention_days': 90, 'platform.primary_color': '#123456', 'cloudpods.webhooks.max_attempts': 0,
  } } });
  assert.is(failed.status, 400);
  assert.equal(failed.body.error.details.fields.map((f: any) => f.name), ['cloudpods.webhooks.max_attempts']);
  assert.is(await settings().getNumber('cloudpods.audit.retention_days'), 365);
  assert.is(await settings().getString('platform.primary_color'), '#2563eb');

  const applied = await app.request('PATCH', '/api/admin/settings', { token: manager, body: { values: {
    'cloudpods.audit.retention_days': 90, 'platform.primary_color': '#123456',
  } } });
  assert.is(applied.status, 200);
  assert.equal(applied.body.settings.map((s: any) => [s.name, s.value]),
    [['cloudpods.audit.retention_days', 90], ['platform.primary_color', '#123456']]);
});

test('changes are audited with actor, old and new value; DELETE resets to the default', async () => {
  await startFrom({ 'platform.primary_color': null });
  const since = (await database.db.selectFrom('cloud_pod_audit').select(({ fn }) => fn.max('id').as('id'))
    .executeTakeFirstOrThrow()).id ?? 0;
  const changed = await app.request('PUT', '/api/admin/settings/platform/primary_color', { token: manager,
    body: { value: '#123456' } });
  assert.is(changed.status, 200);
  const reset = await app.request('DELETE', '/api/admin/settings/platform/primary_color', { token: manager });
  assert.is(reset.status, 200);
  assert.equal([reset.body.setting.value, reset.body.setting.is_default], ['#2563eb', true]);
  const entries = await database.db.selectFrom('cloud_pod_audit').selectAll().where('category', '=', 'settings')
    .where('details', '@>', JSON.stringify({ name: 'platform.primary_color' }) as any).where('id', '>', since)
    .orderBy('id').execute();
  assert.equal(entries.map((e) => [e.action, (e.details as any).old, (e.details as any).new, e.actor_type]), [
    ['setting.updated', '#2563eb', '#123456', 'token'],
    ['setting.reset', '#123456', '#2563eb', 'token'],
  ]);
  assert.ok(entries.every((e) => e.request_id), 'the request id is kept');
});

test('a change made through one process is seen by another process within one second', async () => {
  await startFrom({ 'cloudpods.metrics.sample_interval_seconds': null });
  const watcher = spawn(process.execPath, [new URL('./support/settings-watcher.ts', import.meta.url).pathname,
    database.url, 'cloudpods.metrics.sample_interval_seconds'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: Array<{ value: number; at: number }> = [];
  let buffer = '';
  watcher.stdout.on('data', (chunk) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      seen.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
  });
  try {
    await waitFor('the watcher to read the default', () => seen, (s) => s.at(-1)?.value === 60);
    for (const value of [120, 300]) {
      const response = await app.request('PUT', '/api/admin/settings/cloudpods/metrics.sample_interval_seconds',
        { token: manager, body: { value } });
      const committedAt = Date.now();
      assert.is(response.status, 200);
      const change = await waitFor(`the watcher to see ${value}`, () => seen.find((s) => s.value === value),
        (s) => s !== undefined, { timeoutMs: 5_000, intervalMs: 5 });
      assert.ok(change!.at - committedAt < 1000, `seen after ${change!.at - committedAt} ms`);
    }
  } finally {
    watcher.kill('SIGTERM');
  }
});

test('the cache recovers after its listener loses the database', async () => {
  await startFrom({ 'cloudpods.backup.default_retention_count': null });
  const target = new URL(database.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port));
  const viaProxy = new SystemSettingsService({ db: database.db, databaseUrl: proxy.url(database.url), logger: silent });
  await viaProxy.start();
  try {
    assert.is(await viaProxy.getNumber('cloudpods.backup.default_retention_count'), 7);
    proxy.cut();
    // Written while the listener is cut off: the notice is lost, so only a reload after reconnecting can show it.
    await settings().update({ 'cloudpods.backup.default_retention_count': 14 }, { type: 'system', id: 'test' });
    assert.is(await viaProxy.getNumber('cloudpods.backup.default_retention_count'), 14,
      'while the listener is down, reads go to the database');
    proxy.restore();
    await settings().update({ 'cloudpods.backup.default_retention_count': 21 }, { type: 'system', id: 'test' });
    await waitFor('the reconnected cache to see the latest value',
      () => viaProxy.getNumber('cloudpods.backup.default_retention_count'), (v) => v === 21);
  } finally {
    await viaProxy.stop();
    await proxy.close();
  }
});

test('the service rejects a batch with any bad key without writing', async () => {
  await startFrom({ 'platform.brand_name': 'Acme Cloud' });
  try {
    await settings().update({ 'platform.brand_name': 'Fine', 'platform.nope': 1 }, { type: 'system', id: 'test' });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, SettingsValidationError);
    assert.equal((error as SettingsValidationError).problems, [{ name: 'platform.nope', message: 'unknown setting' }]);
  }
  assert.is(await settings().getString('platform.brand_name'), 'Acme Cloud');
});

test.run();
