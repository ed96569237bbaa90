import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../src/db/database.ts';
import { SystemEventSink, toEvent } from '../src/observability/event-sink.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { waitFor } from './support/wait.ts';

const test = suite('system events');
let database: TestDatabase;
let app: TestApp;
let viewer: string;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url, logLevel: 'info' });
  viewer = (await aToken(database.db, { admin: true, permissions: ['health.view'] })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});


test('a pino line becomes a row: service, level, message and the rest as context', () => {
  const event = toEvent(JSON.stringify({ level: 'error', time: '2026-11-24T10:00:00.000Z', service: 'worker',
    pid: 1, hostname: 'h', msg: 'clone failed', vmid: 4321, err: { message: 'locked' } }));
  assert.equal(event, { service: 'worker', level: 'error', message: 'clone failed',
    context: { vmid: 4321, err: { message: 'locked' } }, created_at: new Date('2026-11-24T10:00:00.000Z') });
  assert.is(toEvent(JSON.stringify({ level: 'fatal', msg: 'x' }))?.level, 'error');
  assert.is(toEvent('not json'), null);
  assert.is(toEvent(JSON.stringify({ level: 'debug', msg: 'x' })), null);
});

test('warn and error lines of the running system land in system_events; info lines do not', async () => {
  app.logger.info({ probe: 1 }, 'routine info');
  app.logger.warn({ vmid: 101 }, 'proxmox answered slowly');
  app.logger.child({ service: 'worker' }).error({ job: 7 }, 'job failed: token cpk_abcdefghijklmnopqrstuvwxyz');
  // Other lines of the running system may land too; these three are this test's.
  const ours = () => database.db.selectFrom('system_events').selectAll()
    .where('message', 'in', ['routine info', 'proxmox answered slowly', 'job failed: token cpk_[redacted]']).execute();
  const rows = await waitFor('both stored', ours, (r) => r.length >= 2);
  assert.equal(rows.map((r) => [r.service, r.level, r.message]).sort(), [
    ['api', 'warn', 'proxmox answered slowly'], ['worker', 'error', 'job failed: token cpk_[redacted]']]);
  assert.equal(rows.find((r) => r.level === 'error')!.context, { job: 7 });
  assert.not.ok(rows.some((r) => r.message === 'routine info'), 'info lines are not stored');
});

test('GET /api/admin/system-events filters by service, level, time and text, newest first, paginated', async () => {
  const base = new Date('2026-01-01T00:00:00Z').getTime();
  const rows = Array.from({ length: 30 }, (_, i) => ({
    service: i % 3 === 0 ? 'controllers' : 'api',
    level: i % 2 === 0 ? 'error' as const : 'warn' as const,
    message: i === 7 ? 'disk 100% full on pve2' : `event ${i}`,
    context: '{}',
    created_at: new Date(base + i * 60_000),
  }));
  await database.db.insertInto('system_events').values(rows).execute();
  const get = (query: string) => app.request('GET', `/api/admin/system-events?${query}`, { token: viewer });

  const controllers = await get('service=controllers&per_page=200&to=2026-01-02T00:00:00Z');
  assert.is(controllers.body.events.length, 10);
  assert.ok(controllers.body.events.every((e: any) => e.service === 'controllers'));
  const errors = await get('level=error&from=2026-01-01T00:10:00Z&to=2026-01-01T00:20:00Z');
  assert.equal(errors.body.events.map((e: any) => e.message),
    ['event 18', 'event 16', 'event 14', 'event 12', 'event 10']);
  const text = await get('q=100%25%20full');
  assert.equal(text.body.events.map((e: any) => e.message), ['disk 100% full on pve2']);
  const paged = await get('to=2026-01-02T00:00:00Z&per_page=7&page=2');
  assert.is(paged.body.events.length, 7);
  assert.equal(paged.body.meta.pagination, { page: 2, per_page: 7, total_entries: 30, last_page: 5,
    previous_page: 1, next_page: 3 });
  assert.is(paged.body.events[0].message, 'event 22');
});

test('bad filters are 400 naming each field', async () => {
  const response = await app.request('GET',
    '/api/admin/system-events?level=debug&from=yesterday&per_page=0', { token: viewer });
  assert.is(response.status, 400);
  assert.equal(response.body.error.details.fields.map((f: any) => f.name).sort(),
    ['query.from', 'query.level', 'query.per_page']);
  const backwards = await app.request('GET',
    '/api/admin/system-events?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', { token: viewer });
  assert.equal(backwards.body.error.details.fields, [{ name: 'query.to', messages: ['must be after from'] }]);
});

test('reading events needs admin scope and health.view', async () => {
  const adminOnly = (await aToken(database.db, { admin: true })).token;
  const tenantViewer = (await aToken(database.db, { tenant: await aTenant(database.db), permissions: ['health.view'] }))
    .token;
  assert.is((await app.request('GET', '/api/admin/system-events', { token: adminOnly })).status, 403);
  assert.is((await app.request('GET', '/api/admin/system-events', { token: tenantViewer })).status, 403);
  assert.is((await app.request('GET', '/api/admin/system-events', { token: viewer })).status, 200);
});

test('while the database is away the sink keeps a bounded buffer, counts drops, never blocks, then resumes', async () => {
  const target = new URL(database.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port));
  const db = openDatabase({ url: proxy.url(database.url), poolMax: 2, connectTimeoutMs: 500 });
  const sink = new SystemEventSink({ bufferLimit: 20, firstRetryMs: 20, maxRetryMs: 100 });
  const logger = createLogger({ level: 'warn', service: 'outage', destination: { write() {} }, eventSink: sink });
  sink.attach(db);
  try {
    proxy.cut();
    const started = performance.now();
    for (let i = 0; i < 50; i++) logger.warn({ i }, `during outage ${i}`);
    assert.ok(performance.now() - started < 200, 'logging does not wait on the database');
    assert.is(sink.bufferedCount, 20);
    assert.is(sink.droppedCount, 30);
    proxy.restore();
    const stored = await waitFor('the buffered events to be stored', () => database.db.selectFrom('system_events')
      .select('message').where('service', '=', 'outage').orderBy('id').execute(), (r) => r.length === 20,
      { timeoutMs: 10_000 });
    assert.is(stored[0]!.message, 'during outage 30', 'the oldest lines were the ones dropped');
    assert.is(sink.bufferedCount, 0);
  } finally {
    await sink.detach();
    await db.destroy();
    await proxy.close();
  }
});

test.run();
