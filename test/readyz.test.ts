import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApp, type TestApp } from './support/app.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';
import { waitFor } from './support/wait.ts';

const test = suite('readiness follows the database');
let database: TestDatabase;
let proxy: TcpProxy;
let app: TestApp;

test.before(async () => {
  database = await testDatabase();
  const target = new URL(database.url);
  proxy = await startTcpProxy(target.hostname, Number(target.port));
  app = await startTestApp({ databaseUrl: proxy.url(database.url) });
});

test.after(async () => {
  await app?.stop();
  await proxy?.close();
  await database?.drop();
});

const readyStatus = async () => (await app.request('GET', '/readyz')).status;

test('readyz is 200, turns 503 when the database goes away, and 200 again when it returns', async () => {
  assert.is(await readyStatus(), 200);

  proxy.cut();
  const down = await waitFor('readyz to report the database unreachable', () => app.request('GET', '/readyz'),
    (r) => r.status === 503);
  assert.is(down.body.status, 'not_ready');
  assert.is(down.body.checks.database.ok, false);
  assert.type(down.body.checks.database.error, 'string');
  assert.is((await app.request('GET', '/healthz')).status, 200, 'liveness does not depend on the database');

  proxy.restore();
  await waitFor('readyz to recover', readyStatus, (status) => status === 200);
});

test('a connection lost inside an open transaction fails that transaction, not the process', async () => {
  let cut!: () => void;
  const cutDone = new Promise<void>((resolve) => { cut = resolve; });
  const held = app.system.db.transaction().execute(async (trx) => {
    await sql`select 1`.execute(trx);
    await cutDone;
    await sql`select 1`.execute(trx);
  });
  await waitFor('the transaction to hold its connection', () => proxy.connections(), (n) => n > 0);
  proxy.cut();
  cut();
  try {
    await held;
    assert.unreachable('the transaction cannot commit without its connection');
  } catch (error) {
    assert.match((error as Error).message, /Connection terminated|terminated|ECONNRESET|closed/i);
  }
  proxy.restore();
  await waitFor('readyz to recover', readyStatus, (status) => status === 200);
});

test('the process survives the outage and serves authenticated requests again', async () => {
  const me = await app.request('GET', '/api/me', { token: `cpk_${'a'.repeat(43)}` });
  assert.is(me.status, 401);
});

test('a database behind on migrations is not ready', async () => {
  const applied = await database.db.selectFrom('kysely_migration' as any).selectAll().execute();
  await database.db.deleteFrom('kysely_migration' as any).execute();
  try {
    const fresh = await startTestApp({ databaseUrl: database.url });
    try {
      const response = await fresh.request('GET', '/readyz');
      assert.is(response.status, 503);
      assert.match(response.body.checks.migrations.error, /pending migrations: 0001_initial/);
    } finally {
      await fresh.stop();
    }
  } finally {
    await database.db.insertInto('kysely_migration' as any).values(applied).execute(); // up to date again for the other tests
  }
});

test.run();
