import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningJob } from '../src/jobs/types.ts';
import { publishLifecycleEvent, type LifecycleEvent } from '../src/hooks/events.ts';
import { defineLifecycleEvents } from '../src/hooks/fan-out.ts';
import { aTenant } from './support/fixtures.ts';
import { anEngine } from './support/jobs.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('lifecycle events');
let database: TestDatabase;

test.before(async () => { database = await testDatabase(); });
test.after(async () => { await database?.drop(); });

test('an event reaches one delivery per active hook of its tenant and event, with a delivery id of event and hook', async () => {
  const db = database.db;
  const acme = await aTenant(db);
  const other = await aTenant(db);
  const hook = (tenantId: string, event: string, isActive = true) => ({ tenant_id: tenantId, name: `h-${event}-${isActive}`,
    event: event as 'pod.post_create', type: 'http' as const, target: 'https://hooks.acme.test/cloudpods', is_active: isActive });
  const [wanted] = await db.insertInto('cloud_pod_hooks').values([hook(acme.id, 'pod.post_create'),
    hook(acme.id, 'pod.pre_destroy'), hook(acme.id, 'pod.post_create', false), hook(other.id, 'pod.post_create')])
    .returning('id').execute();

  const delivered: RunningJob[] = [];
  const engine = anEngine(database, { tasks: [{ queue: 'webhooks', type: 'hook.execute',
    handler: async (job) => { delivered.push(job); } }] });
  defineLifecycleEvents(engine, db);
  await engine.start();
  try {
    await db.transaction().execute((trx) => publishLifecycleEvent(trx, engine, { event: 'pod.post_create',
      podId: '00000000-0000-4000-8000-000000000001', tenantId: acme.id, data: { name: 'web-1' } }));
    await waitFor('the delivery to run', () => delivered.length, (n) => n >= 1);
    const lifecycleDone = await waitFor('the event job to finish', () => db.selectFrom('jobs').select(['id', 'status'])
      .where('type', '=', 'lifecycle.event').where('payload', '@>', JSON.stringify({ tenant_id: acme.id }) as never).execute(),
    (rows) => rows.every((r) => r.status === 'completed'));
    assert.is(lifecycleDone.length, 1);
    assert.is(delivered.length, 1, 'only the active hook of that tenant and event');
    assert.equal([delivered[0]!.payload.hook_id, (delivered[0]!.payload.event as any).event], [wanted!.id, 'pod.post_create']);
    assert.is(delivered[0]!.payload.delivery_id, `msg_${lifecycleDone[0]!.id}_${wanted!.id}`);
  } finally {
    await engine.stop();
  }
});

test('an event without an active hook of its tenant and event fans out nothing', async () => {
  const db = database.db;
  const tenant = await aTenant(db);
  await db.insertInto('cloud_pod_hooks').values([
    { tenant_id: tenant.id, name: 'other-event', event: 'pod.pre_destroy', type: 'http', target: 'https://hooks.acme.test/x' },
    { tenant_id: tenant.id, name: 'inactive', event: 'pod.post_create', type: 'http', target: 'https://hooks.acme.test/x',
      is_active: false },
    { tenant_id: tenant.id, name: 'going', event: 'pod.post_create', type: 'http', target: 'https://hooks.acme.test/x',
      deletion_requested_at: new Date() },
  ]).execute();
  await fanOut({ event: 'pod.post_create', podId: '00000000-0000-4000-8000-000000000002', tenantId: tenant.id, data: {} },
    async () => {
      await waitFor('the event job to finish', () => db.selectFrom('jobs').select('status').where('type', '=', 'lifecycle.event')
        .where('status', 'in', ['pending', 'running']).execute(), (rows) => rows.length === 0);
      const deliveries = await db.selectFrom('jobs').select('id').where('type', '=', 'hook.execute')
        .where('payload', '@>', JSON.stringify({ event: { tenant_id: tenant.id } }) as never).execute();
      assert.equal(deliveries, []);
    });
});

test('the fan-out marks deliveries of blocking hooks, and only theirs', async () => {
  const db = database.db;
  const tenant = await aTenant(db);
  const hook = (name: string, config: object) => ({ tenant_id: tenant.id, name, event: 'pod.pre_destroy' as const,
    type: 'http' as const, target: 'https://hooks.acme.test/x', config: JSON.stringify(config) });
  const rows = await db.insertInto('cloud_pod_hooks').values([hook('gate', { blocking: true }), hook('notify', {}),
    hook('off', { blocking: false })]).returning(['id', 'name']).execute();
  await fanOut({ event: 'pod.pre_destroy', podId: '00000000-0000-4000-8000-000000000003', tenantId: tenant.id, data: {} },
    async () => {
      const deliveries = await waitFor('three deliveries', () => db.selectFrom('jobs').select(['id', 'payload'])
        .where('type', '=', 'hook.execute')
        .where('payload', '@>', JSON.stringify({ event: { tenant_id: tenant.id } }) as never).execute(), (r) => r.length === 3);
      const nameOf = (id: unknown) => rows.find((r) => r.id === id)!.name;
      assert.equal(deliveries.map((d) => [nameOf(d.payload.hook_id), d.payload.blocking ?? null]).sort(),
        [['gate', true], ['notify', null], ['off', null]]);
      // The ledger holds each delivery with its job, written in the fan-out's transaction.
      const ledger = await db.selectFrom('cloud_pod_hook_deliveries')
        .select(['hook_id', 'delivery_id', 'job_id', 'blocking', 'status', 'event', 'pod_id'])
        .where('tenant_id', '=', tenant.id).execute();
      assert.equal(ledger.map((d) => [nameOf(d.hook_id), d.blocking, d.status, d.event, d.pod_id]).sort(), [
        ['gate', true, 'pending', 'pod.pre_destroy', '00000000-0000-4000-8000-000000000003'],
        ['notify', false, 'pending', 'pod.pre_destroy', '00000000-0000-4000-8000-000000000003'],
        ['off', false, 'pending', 'pod.pre_destroy', '00000000-0000-4000-8000-000000000003']]);
      assert.equal(ledger.map((d) => [d.delivery_id, d.job_id]).sort(),
        deliveries.map((d) => [d.payload.delivery_id, d.id]).sort());
    });
});

/** Publishes one event on an engine with the fan-out and deliveries that do nothing, then runs `check`. */
async function fanOut(event: LifecycleEvent, check: () => Promise<void>): Promise<void> {
  const engine = anEngine(database, { tasks: [{ queue: 'webhooks', type: 'hook.execute', handler: async () => {} }] });
  defineLifecycleEvents(engine, database.db);
  await engine.start();
  try {
    await database.db.transaction().execute((trx) => publishLifecycleEvent(trx, engine, event));
    await check();
  } finally {
    await engine.stop();
  }
}

test.run();
