import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { restApi } from '../src/front-door.ts';
import { changeHook } from '../src/hooks/orders.ts';
import { findHook } from '../src/hooks/store.ts';
import { hookView } from '../src/hooks/view.ts';
import { systemActor } from '../src/observability/audit.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { aTenant } from './support/fixtures.ts';
import { aHook, lastDelivery, startHookEngine, type HookEngine } from './support/hook-engine.ts';
import { startHookReceiver, type HookReceiver } from './support/hook-receiver.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('hook.execute: lifecycle events delivered to hooks');
let database: TestDatabase;
let hooks: HookEngine;
let tenant: Tenant;
let scripts: string;
let https: HookReceiver;
const receivers: HookReceiver[] = [];

const receiver = async (...args: Parameters<typeof startHookReceiver>) => {
  const started = await startHookReceiver(...args);
  receivers.push(started);
  return started;
};

test.before(async () => {
  database = await testDatabase();
  tenant = await aTenant(database.db);
  scripts = await fs.mkdtemp(path.join(os.tmpdir(), 'cloudpods-hook-delivery-'));
  https = await startHookReceiver({ tls: true });
  hooks = await startHookEngine(database, { scriptsDirectory: scripts, ca: https.caPem,
    settings: { 'cloudpods.webhooks.allowed_networks': ['127.0.0.0/8'] } });
});

test.after(async () => {
  await hooks?.stop();
  await Promise.all([...receivers, https].map((r) => r?.close()));
  await database?.drop();
  await fs.rm(scripts, { recursive: true, force: true });
});

/** The hook's deliveries as the ledger holds them, with the outcome of their latest attempt. */
const ledgerOf = (hookId: string) => database.db.selectFrom('cloud_pod_hook_deliveries')
  .select(['delivery_id', 'status', 'attempts', 'last_error', 'job_id']).where('hook_id', '=', hookId).execute();

const jobsOfHook = (hookId: string) => database.db.selectFrom('jobs').select(['id', 'status', 'attempts', 'last_error'])
  .where('type', '=', 'hook.execute').where('payload', '@>', JSON.stringify({ hook_id: hookId }) as never).execute();

test('an event reaches an https hook once, signed, with the envelope and the hook\'s headers', async () => {
  const hook = await aHook(database, { tenant_id: tenant.id, target: `https://localhost:${https.port}/cloudpods`,
    config: { headers: { authorization: 'Bearer receiver-token-123' } } });
  https.secret = hook.signing_secret;
  const podId = await hooks.publish({ event: 'pod.post_create', tenantId: tenant.id, data: { name: 'web-1', vmid: 1001 } });
  const [request] = await waitFor('the delivery', () => https.received, (r) => r.length >= 1);
  assert.equal([request!.verified, request!.problem], [true, undefined]);
  assert.is(request!.headers.authorization, 'Bearer receiver-token-123');
  const envelope = JSON.parse(request!.body);
  assert.equal(Object.keys(envelope).sort(), ['created_at', 'data', 'event', 'id', 'pod_id', 'tenant_id']);
  assert.equal([envelope.event, envelope.pod_id, envelope.tenant_id, envelope.data],
    ['pod.post_create', podId, tenant.id, { name: 'web-1', vmid: 1001 }]);
  assert.is(envelope.id, request!.headers['webhook-id']);
  assert.not.ok(envelope.id.includes('.'));
  const condition = await waitFor('LastDelivery', () => lastDelivery(database, hook.id), (c) => c?.status === 'True');
  assert.equal([condition!.reason, condition!.observedGeneration], ['Delivered', 1]);
  assert.match(condition!.message, new RegExp(`pod\\.post_create delivery ${envelope.id} delivered on attempt 1 of 10 \\(HTTP 204\\)`));
  assert.is(https.received.length, 1);
});

test('500 twice then 200: delivered on attempt 3 with the same id, and LastDelivery says so', async () => {
  const server = await receiver({ answer: (n) => (n < 3 ? { status: 500, body: 'try later' } : { status: 200 }) });
  const hook = await aHook(database, { tenant_id: tenant.id, target: `${server.origin}/hook` });
  server.secret = hook.signing_secret;
  await hooks.publish({ event: 'pod.post_create', tenantId: tenant.id });
  const failed = await waitFor('the first failure recorded', () => lastDelivery(database, hook.id), (c) => c !== undefined);
  assert.equal([failed!.status, failed!.reason], ['False', 'DeliveryFailed']);
  assert.match(failed!.message, /failed on attempt 1 of 10: HTTP 500: try later$/);
  const delivered = await waitFor('delivery on the third attempt', () => lastDelivery(database, hook.id),
    (c) => c?.status === 'True', { timeoutMs: 20_000 });
  assert.match(delivered!.message, /delivered on attempt 3 of 10/);
  assert.is(server.received.length, 3);
  assert.ok(server.received.every((r) => r.verified), 'every attempt is signed afresh');
  assert.is(new Set(server.received.map((r) => r.headers['webhook-id'])).size, 1, 'one delivery id across retries');
  const [job] = await waitFor('the job to complete', () => jobsOfHook(hook.id), (jobs) => jobs[0]?.status === 'completed');
  assert.is(job!.attempts, 3);
  assert.equal(await ledgerOf(hook.id), [{ delivery_id: server.received[0]!.headers['webhook-id'], status: 'delivered',
    attempts: 3, last_error: 'HTTP 500: try later', job_id: job!.id }], 'the ledger keeps the failure it got past');
});

test('the last failed attempt gives up: GivenUp, a warning naming hook, event and reason, no secret logged', async () => {
  await hooks.setSettings({ 'cloudpods.webhooks.max_attempts': 2 });
  try {
    const server = await receiver({ answer: () => ({ status: 503, body: 'echo: Bearer receiver-secret-value-42' }) });
    const hook = await aHook(database, { tenant_id: tenant.id, target: `${server.origin}/`, event: 'pod.pre_destroy',
      config: { headers: { 'x-receiver-key': 'receiver-secret-value-42' } } });
    await hooks.publish({ event: 'pod.pre_destroy', tenantId: tenant.id });
    const condition = await waitFor('GivenUp', () => lastDelivery(database, hook.id), (c) => c?.reason === 'GivenUp');
    assert.is(condition!.status, 'False');
    assert.match(condition!.message, /failed on attempt 2 of 2, given up: HTTP 503: echo: Bearer \[redacted\]$/);
    const [job] = await waitFor('the job to be dead', () => jobsOfHook(hook.id), (jobs) => jobs[0]?.status === 'dead');
    assert.is(job!.attempts, 2);
    const [delivery] = await ledgerOf(hook.id);
    assert.equal([delivery!.status, delivery!.attempts, delivery!.last_error],
      ['given_up', 2, 'HTTP 503: echo: Bearer [redacted]']);
    const warning = hooks.logLines.map((line) => JSON.parse(line))
      .find((entry) => entry.msg === 'hook delivery given up after its last attempt' && entry.hookId === hook.id);
    assert.ok(warning, 'a warning is logged');
    assert.equal([warning.level, warning.event, warning.attempts], ['warn', 'pod.pre_destroy', 2]);
    assert.match(warning.reason, /^HTTP 503/);
    const everything = hooks.logLines.join('\n');
    assert.not.ok(everything.includes(hook.signing_secret), 'the signing secret is never logged');
    assert.not.ok(everything.includes('receiver-secret-value-42'), 'nor the hook\'s header values');

    // The admin's health page gets that one warning: a tenant's broken endpoint is no error of the platform.
    await waitFor('the engine to log the dead job', () => hooks.logLines.map((line) => JSON.parse(line))
      .find((entry) => entry.jobId === job!.id && entry.msg.startsWith('job is dead')), (entry) => entry !== undefined);
    await hooks.events.drain();
    const events = await database.db.selectFrom('system_events').select(['service', 'level', 'message'])
      .where((eb) => eb.or([eb(eb.ref('context', '->>').key('hookId'), '=', hook.id),
        eb(eb.ref('context', '->>').key('jobId'), '=', String(job!.id))])).execute();
    assert.equal(events.map((e) => [e.service, e.level, e.message]),
      [['worker:webhooks', 'warn', 'hook delivery given up after its last attempt']]);
  } finally {
    await hooks.setSettings({ 'cloudpods.webhooks.max_attempts': null });
  }
});

test('observed_generation is the generation delivery last acted on, the one its LastDelivery carries', async () => {
  const server = await receiver();
  const own = await aTenant(database.db); // events of this tenant reach this hook only
  const row = await aHook(database, { tenant_id: own.id, target: `${server.origin}/`, event: 'pod.post_backup' });
  const status = async () => hookView((await findHook(database.db, row.id))!).status;
  assert.equal(await status(), { conditions: [], generation: 1, observed_generation: 0 });
  await hooks.publish({ event: 'pod.post_backup', tenantId: own.id });
  const first = await waitFor('the delivery', status, (s) => s.conditions[0]?.status === 'True');
  assert.equal([first.generation, first.observed_generation, first.conditions[0]!.observedGeneration], [1, 1, 1]);

  await changeHook({ db: database.db }, { tenantId: null, actor: systemActor('test'), door: restApi }, row.id,
    { config: { timeout_seconds: 5 } });
  assert.equal([(await status()).generation, (await status()).observed_generation], [2, 1], 'not delivered with it yet');
  await hooks.publish({ event: 'pod.post_backup', tenantId: own.id });
  const second = await waitFor('the delivery of generation 2', status, (s) => s.observed_generation === 2);
  assert.equal([second.generation, second.conditions[0]!.observedGeneration, second.conditions[0]!.reason], [2, 2, 'Delivered']);
});

test('loopback is refused until an admin lists it in cloudpods.webhooks.allowed_networks', async () => {
  await hooks.setSettings({ 'cloudpods.webhooks.allowed_networks': [], 'cloudpods.webhooks.max_attempts': 1 });
  try {
    const server = await receiver();
    const byAddress = await aHook(database, { tenant_id: tenant.id, target: `${server.origin}/`, event: 'pod.post_destroy' });
    const byName = await aHook(database, { tenant_id: tenant.id, target: `http://localhost:${server.port}/`, event: 'pod.post_destroy' });
    await hooks.publish({ event: 'pod.post_destroy', tenantId: tenant.id });
    for (const hook of [byAddress, byName]) {
      const refused = await waitFor('the refusal', () => lastDelivery(database, hook.id), (c) => c !== undefined);
      assert.equal([refused!.status, refused!.reason], ['False', 'GivenUp']);
      assert.match(refused!.message, /127\.0\.0\.1 \(loopback\).*an admin may allow it in cloudpods\.webhooks\.allowed_networks/);
    }
    assert.is(server.received.length, 0);

    await hooks.setSettings({ 'cloudpods.webhooks.allowed_networks': ['127.0.0.0/8'] });
    await hooks.publish({ event: 'pod.post_destroy', tenantId: tenant.id });
    for (const hook of [byAddress, byName]) {
      await waitFor('the delivery', () => lastDelivery(database, hook.id), (c) => c?.status === 'True');
    }
    assert.is(server.received.length, 2);
  } finally {
    await hooks.setSettings({ 'cloudpods.webhooks.allowed_networks': ['127.0.0.0/8'], 'cloudpods.webhooks.max_attempts': null });
  }
});

test('a script hook gets the envelope on stdin and the event in its environment', async () => {
  const out = path.join(scripts, 'received');
  await fs.writeFile(path.join(scripts, 'record-event'),
    `#!/bin/sh\ncat > "${out}.json"\nenv > "${out}.env"\n`, { mode: 0o755 });
  const hook = await aHook(database, { tenant_id: tenant.id, type: 'script', target: 'record-event', event: 'pod.post_backup',
    config: { env: { TARGET_ENVIRONMENT: 'staging' } } });
  const podId = await hooks.publish({ event: 'pod.post_backup', tenantId: tenant.id, data: { name: 'db-1' } });
  await waitFor('the script to run', () => lastDelivery(database, hook.id), (c) => c?.status === 'True');
  const envelope = JSON.parse(await fs.readFile(`${out}.json`, 'utf8'));
  assert.equal([envelope.event, envelope.pod_id, envelope.tenant_id, envelope.data], ['pod.post_backup', podId, tenant.id,
    { name: 'db-1' }]);
  const env = Object.fromEntries((await fs.readFile(`${out}.env`, 'utf8')).trim().split('\n').map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at), line.slice(at + 1)];
  }));
  assert.equal({ ...env, PATH: undefined, PWD: undefined, SHLVL: undefined, _: undefined, OLDPWD: undefined }, {
    TARGET_ENVIRONMENT: 'staging', CLOUDPODS_EVENT: 'pod.post_backup', CLOUDPODS_POD_ID: podId,
    CLOUDPODS_TENANT_ID: tenant.id, CLOUDPODS_DELIVERY_ID: envelope.id,
    PATH: undefined, PWD: undefined, SHLVL: undefined, _: undefined, OLDPWD: undefined,
  }, 'nothing of the server\'s own environment (DATABASE_URL, HOME, ...) reaches the script');
  assert.ok(env.PATH, 'a PATH to find commands');
  const condition = await lastDelivery(database, hook.id);
  assert.match(condition!.message, /delivered on attempt 1 of 10 \(exit 0\)/);
});

test('a hook deactivated, moved to another event or deleted before its delivery runs is skipped', async () => {
  const server = await receiver();
  const hook = await aHook(database, { tenant_id: tenant.id, target: `${server.origin}/`, event: 'pod.pre_create' });
  await database.db.updateTable('cloud_pod_hooks').set({ is_active: false }).where('id', '=', hook.id).execute();
  const moved = await aHook(database, { tenant_id: tenant.id, target: `${server.origin}/`, event: 'pod.post_backup' });
  const gone = '00000000-0000-4000-8000-00000000dead';
  for (const hookId of [hook.id, moved.id, gone]) {
    await hooks.engine.enqueue(database.db, { queue: 'webhooks', type: 'hook.execute', payload: { hook_id: hookId,
      delivery_id: `msg_0_${hookId}`, event: { event: 'pod.pre_create', pod_id: gone, tenant_id: tenant.id, data: {},
        occurred_at: new Date().toISOString() } } });
  }
  for (const hookId of [hook.id, moved.id, gone]) {
    await waitFor('the job to complete', () => jobsOfHook(hookId), (jobs) => jobs[0]?.status === 'completed');
  }
  assert.is(server.received.length, 0);
  assert.is(await lastDelivery(database, hook.id), undefined);
  assert.is(await lastDelivery(database, moved.id), undefined);
});

test.run();
