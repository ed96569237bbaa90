import { Writable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../src/observability/logger.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

const test = suite('logging and redaction');

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', service: 'test', destination }) };
}

const token = `cpk_${'Zx9'.repeat(14)}Q`;
const secrets = [token, 'hunter2-password', 'pve-secret-uuid-1234', 'powerdns-api-key-777', 's3cr3t-db-pass',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'];

test('secret keys are redacted at any depth the configuration names', () => {
  const { lines, logger } = capture();
  logger.info({
    req: { headers: { authorization: `Bearer ${token}`, cookie: `cloudpods_session=${token}` } },
    password: 'hunter2-password',
    proxmox: { apiToken: 'pve-secret-uuid-1234' },
    config: { powerdns: { apiKey: 'powerdns-api-key-777' }, database: { url: 'postgres://app:s3cr3t-db-pass@db/x' } },
    ssh: { privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END OPENSSH PRIVATE KEY-----' },
  }, 'connecting');
  const text = lines.join('');
  for (const secret of secrets) assert.not.ok(text.includes(secret), `leaked ${secret}: ${text}`);
  const line = JSON.parse(text);
  assert.is(line.req.headers.authorization, '[redacted]');
  assert.is(line.proxmox.apiToken, '[redacted]');
  assert.is(line.msg, 'connecting');
});

test('secrets inside free text are masked too', () => {
  const { lines, logger } = capture();
  logger.warn(`retrying with ${token} against postgres://app:s3cr3t-db-pass@db:5432/x`);
  logger.error({ err: new Error(`PVEAPIToken=root@pam!cloudpods=pve-secret-uuid-1234 rejected`) }, 'proxmox said no');
  logger.info('header was Bearer abcdefghijklmnopqrstuvwxyz0123');
  logger.warn({ hook: { signing_secret: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWJ5dGVzLTMyYg==' } }, 'signing with whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=');
  const text = lines.join('');
  for (const secret of [...secrets, 'abcdefghijklmnopqrstuvwxyz0123', 'c2VjcmV0LXNpZ25pbmcta2V5LWJ5dGVzLTMyYg', 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo']) {
    assert.not.ok(text.includes(secret), `leaked ${secret}: ${text}`);
  }
  assert.match(text, /PVEAPIToken=root@pam!cloudpods=\[redacted\]/);
  assert.match(text, /postgres:\/\/app:\[redacted\]@db:5432/);
});

let database: TestDatabase;
let app: TestApp;

test('the running API never logs the bearer tokens it receives', async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url, logLevel: 'debug' });
  const { token: real } = await aToken(database.db, { tenant: await aTenant(database.db) });
  await app.request('GET', '/api/me', { token: real });
  await app.request('GET', '/api/me', { token: `cpk_${'n'.repeat(43)}` });
  await app.request('POST', '/api/tokens', { token: real, rawBody: `{"name": "${real}"`,
    headers: { 'content-type': 'application/json' } });
  const text = app.logLines.join('\n');
  assert.ok(app.logLines.length >= 3, 'requests were logged');
  assert.not.ok(text.includes(real.slice(4)), 'a real token reached the log');
  assert.not.ok(text.includes('n'.repeat(43)), 'an unknown token reached the log');
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

test.run();
