import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../src/db/database.ts';
import { SystemEventSink, toEvent } from '../src/observability/event-sink.ts';
import { systemActor } from '../src/observability/audit.ts';
import { PerMinuteBudget } from '../src/observability/event-budget.ts';
import { componentLogger, createLogger } from '../src/observability/logger.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { waitFor } from './support/wait.ts';

const test = suite('system events');
const testActor = systemActor('test');
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
  assert.is(toEvent(JSON.stringify({ level: 'info', msg: 'routine' })), null, 'an info line is no event unless marked');
  assert.is(toEvent(JSON.stringify({ level: 'info', msg: 'hook delivered', event: 'pod.post_create' })), null);
  assert.equal(toEvent(JSON.stringify({ level: 'info', service: 'jobs', msg: 'job engine started', event: true, queues: [] }))
    ?.context, { queues: [] }, 'an info event is kept, without its marker');
});

test('a component logger names its component once per line, also when made from another component\'s', () => {
  const lines: string[] = [];
  const root = createLogger({ level: 'info', destination: { write: (line: string) => { lines.push(line); } } });
  root.info('process line');
  const api = componentLogger(root, 'api');
  api.child({ requestId: 'r1' }).info('request');
  componentLogger(api, 'kube-bridge').info('nested');
  assert.equal(lines.map((line) => [JSON.parse(line).service, line.split('"service"').length - 1]),
    [['cloudpods', 1], ['api', 1], ['kube-bridge', 1]]);
});

test('a quieter output level keeps the info events for the sink, and only them', () => {
  const lines: string[] = [];
  const stored: string[] = [];
  const sink = { write: (line: string) => { const event = toEvent(line); if (event) stored.push(event.message); } };
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => { lines.push(line); } }, eventSink: sink });
  logger.info('routine');
  logger.info({ event: true }, 'job engine started');
  logger.warn('disk almost full');
  assert.equal(lines.map((line) => JSON.parse(line).msg), ['disk almost full']);
  assert.equal(stored, ['job engine started', 'disk almost full']);
});

test('events of the running system land in system_events under the component that logged them', async () => {
  app.logger.info({ probe: 1 }, 'routine info');
  app.logger.info({ event: true, probe: 2 }, 'an info event');
  app.logger.warn({ vmid: 101 }, 'proxmox answered slowly');
  componentLogger(app.logger, 'worker').error({ job: 7 }, 'job failed: token cpk_abcdefghijklmnopqrstuvwxyz');
  // Other lines of the running system may land too; these four are this test's.
  const ours = () => database.db.selectFrom('system_events').selectAll().where('message', 'in',
    ['routine info', 'an info event', 'proxmox answered slowly', 'job failed: token cpk_[redacted]']).execute();
  const rows = await waitFor('the three events stored', ours, (r) => r.length >= 3);
  assert.equal(rows.map((r) => [r.service, r.level, r.message]).sort(), [
    ['cloudpods', 'info', 'an info event'], ['cloudpods', 'warn', 'proxmox answered slowly'],
    ['worker', 'error', 'job failed: token cpk_[redacted]']]);
  assert.equal(rows.find((r) => r.level === 'error')!.context, { job: 7 });
  assert.equal(rows.find((r) => r.level === 'info')!.context, { probe: 2 });
  assert.not.ok(rows.some((r) => r.message === 'routine info'), 'info lines that are no events are not stored');
});

test('?service= finds a component\'s events and ?level=info the info events: start-up, settings changes', async () => {
  const get = async (query: string) => (await app.request('GET', `/api/admin/system-events?per_page=100&${query}`,
    { token: viewer })).body.events.map((e: any) => `${e.service} ${e.level} ${e.message}`);
  assert.ok((await get('service=api')).includes('api info API listening'));
  const jobs = await get('level=info&service=jobs');
  assert.equal(jobs, ['jobs info job engine started']);
  const earlier = (await get('level=info&q=settings changed')).length; // other tests change settings too
  await app.system.settings.update({ 'platform.brand_name': 'Events Inc' }, testActor);
  const changed = await waitFor('the settings change stored', () => get('level=info&q=settings changed'),
    (events) => events.length > earlier);
  assert.equal(changed, Array(earlier + 1).fill('settings info settings changed'));
  const all = await get('level=info');
  assert.ok(all.every((line: string) => line.includes(' info ')), all.join('\n'));
});

test('a drain asked for while a flush is scheduled stores each line once', async () => {
  const sink = new SystemEventSink();
  const logger = createLogger({ level: 'warn', service: 'once', destination: { write() {} }, eventSink: sink });
  sink.attach(database.db, undefined, app.system.settings);
  try {
    for (let round = 0; round < 5; round++) {
      logger.warn({ round }, 'stored once');
      // The write scheduled a flush for the next turn; the drain starts one now, and the scheduled one must not run beside it.
      await sink.drain();
      await new Promise((resolve) => setImmediate(resolve));
      await sink.drain();
    }
    const rows = await database.db.selectFrom('system_events').select('context').where('service', '=', 'once').execute();
    assert.equal(rows.map((r) => r.context.round).sort(), [0, 1, 2, 3, 4]);
  } finally {
    await sink.detach();
  }
});

test('info events beyond cloudpods.events.info_per_minute are dropped and counted, with one warning a minute', async () => {
  const budget = new PerMinuteBudget();
  const minute = Date.parse('2026-01-01T10:00:00Z');
  assert.equal([0, 1, 2, 3].map((i) => budget.take(minute + i, 2)),
    [{ keep: true }, { keep: true }, { keep: false, first: true }, { keep: false, first: false }]);
  assert.equal(budget.take(minute - 1, 2), { keep: false, first: false }, 'a late line counts against the current minute');
  assert.equal(budget.take(minute + 60_000, 2), { keep: true }, 'the next minute starts afresh');

  await app.system.settings.update({ 'cloudpods.events.info_per_minute': 3 }, testActor);
  const sink = new SystemEventSink();
  const logger = createLogger({ level: 'info', service: 'burst', destination: { write() {} }, eventSink: sink });
  sink.attach(database.db, undefined, app.system.settings);
  try {
    // A burst split by a minute's end would count against two minutes.
    await waitFor('a minute with time left', () => Date.now() % 60_000, (ms) => ms < 50_000, { timeoutMs: 15_000 });
    logger.info({ event: true, n: 0 }, 'burst event');
    await sink.drain(); // the limit is read before each write to the database
    for (let n = 1; n < 10; n++) logger.info({ event: true, n }, 'burst event');
    await sink.drain();
    const rows = await database.db.selectFrom('system_events').select(['service', 'level', 'message', 'context'])
      .where((eb) => eb.or([eb('service', '=', 'burst'), eb('service', '=', 'system-events')])).orderBy('id').execute();
    assert.equal(rows.map((r) => [r.service, r.level, r.level === 'info' ? r.context.n : r.message]), [
      ['burst', 'info', 0], ['burst', 'info', 1], ['burst', 'info', 2],
      ['system-events', 'warn', 'more than 3 info events this minute: the rest of the minute\'s are not stored '
        + '(cloudpods.events.info_per_minute)'],
    ]);
    assert.is(sink.infoDroppedCount, 7);
    logger.warn('a warning is never over the limit');
    await sink.drain();
    assert.ok(await database.db.selectFrom('system_events').select('id').where('message', '=', 'a warning is never over the limit')
      .executeTakeFirst());
  } finally {
    await sink.detach();
    await app.system.settings.update({ 'cloudpods.events.info_per_minute': null }, testActor);
  }
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
