import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pruneIdempotencyKeys } from '../src/api/idempotency.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

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
  const before = await tenantCount();
  const reused = await create('order-1', { slug: 'other-co', name: 'Other Co' });
  assert.is(reused.status, 422);
  assert.equal(reused.body.error.details.fields, [{ name: 'Idempotency-Key', messages: ['already used with a different request'] }]);
  assert.is(await tenantCount(), before);
});

test('client errors are replayed too; keys belong to their tenant or token', async () => {
  const bad = await create('order-2', { slug: 'Bad Slug' });
  const again = await create('order-2', { slug: 'Bad Slug' });
  assert.equal([bad.status, again.status, again.headers.get('idempotent-replayed')], [400, 400, 'true']);
  const otherAdmin = (await aToken(database.db, { admin: true })).token;
  const separate = await create('order-1', { slug: 'second-admin', name: 'Second' }, otherAdmin);
  assert.is(separate.status, 201, 'another platform token has its own keys');
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
