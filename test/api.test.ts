import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fromDatabaseError } from '../src/db/errors.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

const test = suite('api skeleton');
let database: TestDatabase;
let app: TestApp;
let token: string;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url, overrides: { 'server.bodyLimitBytes': 4096 } });
  token = (await aToken(database.db, { tenant: await aTenant(database.db), permissions: ['cloudpods.view'] })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

function assertEnvelope(body: any, code: string): void {
  assert.type(body?.error, 'object', `expected an error envelope, got ${JSON.stringify(body)}`);
  assert.is(body.error.code, code);
  assert.type(body.error.message, 'string');
  assert.type(body.error.details, 'object');
  assert.type(body.error.request_id, 'string');
}

test('healthz answers ok; readyz 200 with database and migrations current', async () => {
  assert.equal((await app.request('GET', '/healthz')).body, { status: 'ok' });
  const ready = await app.request('GET', '/readyz');
  assert.is(ready.status, 200);
  assert.equal(ready.body, { status: 'ready', checks: { database: { ok: true }, migrations: { ok: true } } });
});

test('unknown routes answer the envelope with 404', async () => {
  const rootMiss = await app.request('GET', '/nothing-here');
  assert.is(rootMiss.status, 404);
  assertEnvelope(rootMiss.body, 'not_found');
  const apiMiss = await app.request('GET', '/api/nothing-here', { token });
  assert.is(apiMiss.status, 404);
  assertEnvelope(apiMiss.body, 'not_found');
});

test('every response carries a request id, echoed from the caller when given', async () => {
  const generated = await app.request('GET', '/healthz');
  assert.ok(generated.headers.get('x-request-id'));
  const echoed = await app.request('GET', '/api/nothing', { token, headers: { 'x-request-id': 'trace-abc-123' } });
  assert.is(echoed.headers.get('x-request-id'), 'trace-abc-123');
  assert.is(echoed.body.error.request_id, 'trace-abc-123');
});

test('malformed JSON is 400 json_error and writes nothing', async () => {
  const before = await database.db.selectFrom('api_tokens').select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const response = await app.request('POST', '/api/tokens', {
    token, rawBody: '{"name": "x",', headers: { 'content-type': 'application/json' },
  });
  assert.is(response.status, 400);
  assertEnvelope(response.body, 'json_error');
  const after = await database.db.selectFrom('api_tokens').select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  assert.is(after.n, before.n);
});

test('a body that is not JSON is 415', async () => {
  const response = await app.request('POST', '/api/tokens', {
    token, rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.is(response.status, 415);
  assertEnvelope(response.body, 'unsupported_media_type');
});

test('validation errors are 400 and list every bad field', async () => {
  const response = await app.request('POST', '/api/tokens', {
    token, body: { name: '', permissions: ['cloudpods.view', 'root.everything'], expires_in: 'soon', colour: 'red' },
  });
  assert.is(response.status, 400);
  assertEnvelope(response.body, 'validation_error');
  const fields = Object.fromEntries(response.body.error.details.fields.map((f: any) => [f.name, f.messages]));
  assert.equal(Object.keys(fields).sort(), ['colour', 'expires_in', 'name', 'permissions[1]']);
  assert.equal(fields.colour, ['unknown field']);
  assert.match(fields['permissions[1]'][0], /expected one of settings\.manage/);
  assert.match(response.body.error.message, /name: must not be empty/);
});

test('query strings are validated the same way', async () => {
  const response = await app.request('GET', '/api/tokens?per_page=500&page=0', { token });
  assert.is(response.status, 400);
  const names = response.body.error.details.fields.map((f: any) => f.name).sort();
  assert.equal(names, ['query.page', 'query.per_page']);
});

test('an oversized body is 413 before anything reads it', async () => {
  const response = await app.request('POST', '/api/tokens', { token, body: { name: 'x'.repeat(5000) } });
  assert.is(response.status, 413);
  assertEnvelope(response.body, 'payload_too_large');
  assert.equal(response.body.error.details, { limit: 4096 });
});

test('/metrics exposes process metrics and requests by route pattern and status', async () => {
  await app.request('GET', '/api/tokens/00000000-0000-4000-8000-000000000000', { token });
  await app.request('GET', '/healthz');
  await app.request('GET', '/nothing-here');
  const response = await app.request('GET', '/metrics');
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
  const text: string = response.body;
  assert.match(text, /process_cpu_user_seconds_total/);
  assert.match(text, /nodejs_heap_size_used_bytes/);
  assert.match(text, /cloudpods_http_requests_total\{method="GET",route="\/api\/tokens\/:id",status="404"\} 1/);
  assert.match(text, /cloudpods_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz",status="200"\}/);
  assert.match(text, /route="unmatched",status="404"/);
});

test('each request is logged once with its id, route and status', async () => {
  const response = await app.request('GET', '/api/me', { token, headers: { 'x-request-id': 'log-check-1' } });
  assert.is(response.status, 200);
  const lines = app.logLines.map((l) => JSON.parse(l)).filter((l) => l.requestId === 'log-check-1');
  assert.is(lines.length, 1);
  assert.equal(lines[0].req, { method: 'GET', path: '/api/me', route: '/api/me' });
  assert.is(lines[0].res.status, 200);
  assert.is(lines[0].service, 'api');
});

test('database errors that reach a handler become answers: busy 503, conflicts 409, checks 400', () => {
  const busy = fromDatabaseError(new Error('timeout exceeded when trying to connect'));
  assert.equal([busy?.status, busy?.code], [503, 'service_unavailable']);
  const unique = fromDatabaseError(Object.assign(new Error('dup'), { code: '23505', constraint: 'tenants_slug_key' }));
  assert.equal([unique?.status, unique?.code, unique?.details], [409, 'conflict', { constraint: 'tenants_slug_key' }]);
  assert.is(fromDatabaseError(Object.assign(new Error('restrict'), { code: '23001' }))?.code, 'in_use');
  assert.is(fromDatabaseError(Object.assign(new Error('check'), { code: '23514' }))?.status, 400);
  assert.is(fromDatabaseError(new Error('something else')), undefined);
});

test.run();
