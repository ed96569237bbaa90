import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { finishedHookDeliveryStatuses, type HookDeliveryStatus, type HookEvent, type JobStatus } from '../src/db/schema.ts';
import { podKind } from '../src/pods/kind.ts';
import { defineHookDelivery } from '../src/hooks/execute.ts';
import { defineLifecycleEvents } from '../src/hooks/fan-out.ts';
import { hookGate } from '../src/hooks/gate.ts';
import { cancelJob, retryJob } from '../src/jobs/admin.ts';
import type { JobStatusListener } from '../src/jobs/types.ts';
import { systemActor } from '../src/observability/audit.ts';
import { createLogger } from '../src/observability/logger.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { aTenant } from './support/fixtures.ts';
import { anEngine, fakeSettings } from './support/jobs.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/**
 * The blocking-hook gate against PostgreSQL: the event's job and the delivery ledger are written as the fan-out,
 * the deliveries and the engine leave them, in every state, and the gate says what holds the pod.
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
async function anEvent(podId: string, event: HookEvent, status: JobStatus = 'completed'): Promise<number> {
  const row = await database.db.insertInto('jobs').values({ queue: 'webhooks', type: 'lifecycle.event', ...states(status),
    payload: JSON.stringify({ event, pod_id: podId, tenant_id: tenant.id, data: {} }) }).returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

let jobIds = 1_000_000;
/** A delivery's ledger row, as the fan-out writes it and its attempts leave it. Returns its job's id. */
async function aDelivery(podId: string, hookId: string, status: HookDeliveryStatus, { event = 'pod.pre_create' as HookEvent,
  blocking = true, lastError = null as string | null } = {}): Promise<number> {
  const jobId = ++jobIds;
  await database.db.insertInto('cloud_pod_hook_deliveries').values({ hook_id: hookId, tenant_id: tenant.id, pod_id: podId,
    event, delivery_id: `msg_${jobId}_${hookId}`, job_id: jobId, blocking, status, last_error: lastError,
    finished_at: finishedHookDeliveryStatuses.includes(status) ? new Date() : null }).execute();
  return jobId;
}

const setDelivery = (jobId: number, status: HookDeliveryStatus) => database.db.updateTable('cloud_pod_hook_deliveries')
  .set({ status, finished_at: finishedHookDeliveryStatuses.includes(status) ? new Date() : null })
  .where('job_id', '=', jobId).execute();

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
  assert.equal(await gate(pod), { state: 'pending', hooks: ['approve'], inFlight: false }, 'waiting for its first attempt');
  await setDelivery(delivery, 'failed');
  assert.equal(await gate(pod), { state: 'pending', hooks: ['approve'], inFlight: false }, 'waiting for a retry');
  await setDelivery(delivery, 'delivered');
  assert.equal(await gate(pod), { state: 'clear' });
  assert.equal(await gate(pod, 'pod.pre_destroy'), { state: 'clear' }, 'the other event has nothing');
  await database.db.deleteFrom('cloud_pod_hooks').where('id', '=', hook).execute();
});

test('failed when a blocking delivery was given up, naming the hook, its error and the job', async () => {
  const hook = await aBlockingHook('audit', 'pod.pre_destroy');
  const pod = randomUUID();
  await anEvent(pod, 'pod.pre_destroy');
  await aDelivery(pod, hook, 'pending', { event: 'pod.pre_destroy' });
  const dead = await aDelivery(pod, hook, 'given_up', { event: 'pod.pre_destroy', lastError: 'HTTP 500: no' });
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
  await aDelivery(pod, hook, 'given_up', { blocking: false, lastError: 'HTTP 500' });
  assert.equal(await gate(pod), { state: 'clear' });
  await database.db.deleteFrom('cloud_pod_hooks').where('id', '=', hook).execute();
});

test('a fan-out given up holds the pod as failed, naming every blocking hook and the event job', async () => {
  await aBlockingHook('b-hook');
  await aBlockingHook('a-hook');
  const pod = randomUUID();
  const event = await anEvent(pod, 'pod.pre_create', 'running');
  // The engine ends the event's job dead, as after its last attempt: the fan-out's own record of that, in the
  // same transaction.
  const engine = anEngine(database);
  defineLifecycleEvents(engine, database.db);
  await database.db.transaction().execute(async (trx) => {
    await trx.updateTable('jobs').set({ status: 'dead', locked_by: null, last_error: 'connection lost' })
      .where('id', '=', event).execute();
    await engine.statusChanged(trx, { jobId: event, queue: 'webhooks', type: 'lifecycle.event', status: 'dead',
      attempts: 25, error: 'connection lost' });
  });
  const failed = await gate(pod);
  assert.equal(failed.state === 'failed' && [failed.hook, failed.error, failed.jobId],
    ['a-hook, b-hook', 'the pod.pre_create event was not fanned out: connection lost', event]);

  // An admin's retry of the event's job forgets those; the gate waits for the fan-out again.
  await database.db.transaction().execute(async (trx) => {
    await trx.updateTable('jobs').set({ status: 'pending' }).where('id', '=', event).execute();
    await engine.statusChanged(trx, { jobId: event, queue: 'webhooks', type: 'lifecycle.event', status: 'pending',
      attempts: 25, error: null });
  });
  assert.equal(await gate(pod), { state: 'pending', hooks: ['a-hook', 'b-hook'], inFlight: true });
});

test('an admin cancelling a blocking delivery gives it up; retrying it makes the pod wait for it again', async () => {
  const hook = await aBlockingHook('review', 'pod.pre_destroy');
  const pod = randomUUID();
  await anEvent(pod, 'pod.pre_destroy');
  const engine = anEngine(database);
  defineHookDelivery(engine, { db: database.db, logger: createLogger({ level: 'silent' }),
    settings: { ...fakeSettings(), getJson: async <T>() => [] as T }, wakePod: (trx, podId) => podKind.enqueue(engine, trx, podId) });
  const statusChanged: JobStatusListener = (trx, change) => engine.statusChanged(trx, change);
  // The delivery's job, waiting for a retry, and its ledger row as the fan-out and a failed attempt left it.
  const { id: job } = await engine.enqueue(database.db, { queue: 'webhooks', type: 'hook.execute',
    runAt: new Date(Date.now() + 3_600_000), payload: { hook_id: hook } });
  await database.db.insertInto('cloud_pod_hook_deliveries').values({ hook_id: hook, tenant_id: tenant.id, pod_id: pod,
    event: 'pod.pre_destroy', delivery_id: `msg_0_${hook}`, job_id: job, blocking: true, status: 'failed', attempts: 1,
    last_error: 'HTTP 503' }).execute();
  assert.equal(await gate(pod, 'pod.pre_destroy'), { state: 'pending', hooks: ['review'], inFlight: false });

  assert.ok((await cancelJob(database.db, job, systemActor('ops'), undefined, statusChanged)).ok);
  assert.equal(await gate(pod, 'pod.pre_destroy'), { state: 'failed', hook: 'review', error: 'cancelled by system ops',
    jobId: job });
  assert.ok((await retryJob(database.db, job, systemActor('ops'), undefined, statusChanged)).ok);
  assert.equal(await gate(pod, 'pod.pre_destroy'), { state: 'pending', hooks: ['review'], inFlight: false });
  await database.db.deleteFrom('cloud_pod_hooks').where('id', '=', hook).execute();
});

test.run();
