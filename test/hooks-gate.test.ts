import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { HookEvent, JobStatus } from '../src/db/schema.ts';
import { hookGate } from '../src/hooks/gate.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { aTenant } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/**
 * The blocking-hook gate against PostgreSQL: jobs are written as the fan-out and the engine leave them, in every
 * state, and the gate says what holds the pod.
 */
const test = suite('blocking hook gate');
let database: TestDatabase;
/** Each test's own: a tenant's blocking hooks hold every pod of the tenant. */
let tenant: Tenant;

test.before(async () => { database = await testDatabase(); });
test.before.each(async () => { tenant = await aTenant(database.db); });
test.after(async () => { await database?.drop(); });

const aBlockingHook = async (name: string, event: HookEvent = 'pod.pre_create', config: object = { blocking: true }) =>
  (await database.db.insertInto('cloud_pod_hooks').values({ tenant_id: tenant.id, name, event, type: 'http',
    target: 'https://hooks.acme.test/x', config: JSON.stringify(config) }).returning('id').executeTakeFirstOrThrow()).id;

const states = (status: JobStatus) => ({ status, ...(status === 'running'
  ? { locked_by: randomUUID(), started_at: new Date() } : {}) });

/** The event's job, as publishLifecycleEvent writes it. */
async function anEvent(podId: string, event: HookEvent, status: JobStatus = 'completed', lastError?: string) {
  await database.db.insertInto('jobs').values({ queue: 'webhooks', type: 'lifecycle.event', ...states(status),
    last_error: lastError ?? null, payload: JSON.stringify({ event, pod_id: podId, tenant_id: tenant.id, data: {} }) })
    .execute();
}

/** A delivery job, as the fan-out writes it. */
async function aDelivery(podId: string, hookId: string, status: JobStatus, { event = 'pod.pre_create' as HookEvent,
  blocking = true, lastError = null as string | null } = {}): Promise<number> {
  const row = await database.db.insertInto('jobs').values({ queue: 'webhooks', type: 'hook.execute', ...states(status),
    last_error: lastError, payload: JSON.stringify({ hook_id: hookId, delivery_id: 'msg_1', ...(blocking ? { blocking: true } : {}),
      event: { event, pod_id: podId, tenant_id: tenant.id, data: {} } }) }).returning('id').executeTakeFirstOrThrow();
  return Number(row.id);
}

const gate = (podId: string, event: 'pod.pre_create' | 'pod.pre_destroy' = 'pod.pre_create') =>
  hookGate(database.db, { id: podId, tenantId: tenant.id }, event);

test('without a blocking hook nothing holds, not even an event still to fan out', async () => {
  await aBlockingHook('notify', 'pod.pre_create', {});
  const pod = randomUUID();
  await anEvent(pod, 'pod.pre_create', 'pending');
  assert.equal(await gate(pod), { state: 'clear' });
});

test('pending while the event waits for its fan-out, then while a blocking delivery is unfinished', async () => {
  const hook = await aBlockingHook('approve');
  const pod = randomUUID();
  await anEvent(pod, 'pod.pre_create', 'running');
  assert.equal(await gate(pod), { state: 'pending', hooks: ['approve'], inFlight: true });
  await database.db.updateTable('jobs').set({ status: 'completed', locked_by: null })
    .where('type', '=', 'lifecycle.event').where(({ ref }) => ref('payload', '->>').key('pod_id'), '=', pod).execute();
  const delivery = await aDelivery(pod, hook, 'pending');
  assert.equal(await gate(pod), { state: 'pending', hooks: ['approve'], inFlight: false }, 'waiting for a retry');
  await database.db.updateTable('jobs').set(states('running')).where('id', '=', delivery).execute();
  assert.equal(await gate(pod), { state: 'pending', hooks: ['approve'], inFlight: true });
  await database.db.updateTable('jobs').set({ status: 'completed', locked_by: null }).where('id', '=', delivery).execute();
  assert.equal(await gate(pod), { state: 'clear' });
  assert.equal(await gate(pod, 'pod.pre_destroy'), { state: 'clear' }, 'the other event has nothing');
  await database.db.deleteFrom('cloud_pod_hooks').where('id', '=', hook).execute();
});

test('failed when a blocking delivery was given up, naming the hook, its error and the job', async () => {
  const hook = await aBlockingHook('audit', 'pod.pre_destroy');
  const pod = randomUUID();
  await anEvent(pod, 'pod.pre_destroy');
  await aDelivery(pod, hook, 'pending', { event: 'pod.pre_destroy' });
  const dead = await aDelivery(pod, hook, 'dead', { event: 'pod.pre_destroy', lastError: 'HTTP 500: no' });
  assert.equal(await gate(pod, 'pod.pre_destroy'), { state: 'failed', hook: 'audit', error: 'HTTP 500: no', jobId: dead });
  assert.equal(await gate(pod), { state: 'clear' }, 'pre_create is another event');
  assert.equal(await gate(randomUUID(), 'pod.pre_destroy'), { state: 'clear' }, 'another pod');

  // Deactivated, made non-blocking or deleted: the hook holds nothing any more.
  for (const [change, restore] of [[{ is_active: false }, { is_active: true }],
    [{ config: JSON.stringify({ blocking: false }) }, { config: JSON.stringify({ blocking: true }) }],
    [{ deletion_requested_at: new Date() }, { deletion_requested_at: null }]] as const) {
    await database.db.updateTable('cloud_pod_hooks').set(change).where('id', '=', hook).execute();
    assert.equal(await gate(pod, 'pod.pre_destroy'), { state: 'clear' }, JSON.stringify(change));
    await database.db.updateTable('cloud_pod_hooks').set(restore).where('id', '=', hook).execute();
  }
  assert.is((await gate(pod, 'pod.pre_destroy')).state, 'failed');
  await database.db.deleteFrom('cloud_pod_hooks').where('id', '=', hook).execute();
  assert.equal(await gate(pod, 'pod.pre_destroy'), { state: 'clear' }, 'deleted');
});

test('a delivery not marked blocking at the fan-out holds nothing, though its hook is blocking now', async () => {
  const hook = await aBlockingHook('later');
  const pod = randomUUID();
  await anEvent(pod, 'pod.pre_create');
  await aDelivery(pod, hook, 'dead', { blocking: false, lastError: 'HTTP 500' });
  assert.equal(await gate(pod), { state: 'clear' });
  await database.db.deleteFrom('cloud_pod_hooks').where('id', '=', hook).execute();
});

test('a fan-out given up holds the pod as failed, naming every blocking hook and the event job', async () => {
  await aBlockingHook('b-hook');
  await aBlockingHook('a-hook');
  const pod = randomUUID();
  await anEvent(pod, 'pod.pre_create', 'dead', 'connection lost');
  const failed = await gate(pod);
  assert.equal(failed.state === 'failed' && [failed.hook, failed.error],
    ['a-hook, b-hook', 'the pod.pre_create event was not fanned out: connection lost']);
});

test.run();
