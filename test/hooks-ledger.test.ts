import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { publishLifecycleEvent } from '../src/hooks/events.ts';
import { hookGate } from '../src/hooks/gate.ts';
import { pruneFinishedJobs } from '../src/jobs/retention.ts';
import { systemActor } from '../src/observability/audit.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { aHook } from './support/hook-engine.ts';
import { startHookReceiver, type HookReceiver } from './support/hook-receiver.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

/**
 * The delivery ledger in a running system: what a hook's deliveries show and what holds a pod come from it, so
 * the job retention removing the finished jobs changes neither.
 */
const test = suite('hook delivery ledger');
let database: TestDatabase;
let app: TestApp;
let tenant: Tenant;
let token: string;
let receiver: HookReceiver;
let failing: HookReceiver;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  await app.system.settings.update({ 'cloudpods.webhooks.allowed_networks': ['127.0.0.0/8'],
    'cloudpods.webhooks.max_attempts': 1, 'jobs.poll_interval_ms': 200 }, systemActor('test'));
  tenant = await aTenant(database.db);
  token = (await aToken(database.db, { tenant, permissions: ['cloudpods.view'] })).token;
  receiver = await startHookReceiver();
  failing = await startHookReceiver({ answer: () => ({ status: 500, body: 'receiver is down' }) });
});

test.after(async () => {
  await app?.stop();
  await receiver?.close();
  await failing?.close();
  await database?.drop();
});

const deliveriesOf = async (hookId: string) => {
  const answer = await app.request('GET', `/api/cloud-pods/hooks/${hookId}/deliveries`, { token });
  assert.is(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.deliveries;
};

test('pruning the finished jobs leaves the deliveries list and the blocking-hook gate as they were', async () => {
  const blocking = await aHook(database, { tenant_id: tenant.id, target: `${failing.origin}/`, event: 'pod.pre_destroy',
    config: { blocking: true } });
  const notify = await aHook(database, { tenant_id: tenant.id, target: `${receiver.origin}/`, event: 'pod.post_create' });
  const pod = randomUUID();
  await database.db.transaction().execute(async (trx) => {
    for (const event of ['pod.post_create', 'pod.pre_destroy'] as const) {
      await publishLifecycleEvent(trx, app.system.jobs, { event, podId: pod, tenantId: tenant.id, data: { name: 'web-1' } });
    }
  });
  const [givenUp] = await waitFor('the blocking delivery given up', () => deliveriesOf(blocking.id),
    (list) => list[0]?.status === 'given_up');
  assert.equal([givenUp.event, givenUp.pod_id, givenUp.attempts, givenUp.last_error, givenUp.blocking],
    ['pod.pre_destroy', pod, 1, 'HTTP 500: receiver is down', true]);
  const [delivered] = await waitFor('the other delivered', () => deliveriesOf(notify.id),
    (list) => list[0]?.status === 'delivered');
  assert.equal([delivered.event, delivered.attempts, delivered.last_error, delivered.blocking],
    ['pod.post_create', 1, null, false]);
  const gate = () => hookGate(database.db, { id: pod, tenantId: tenant.id }, 'pod.pre_destroy');
  const held = await gate();
  assert.equal(held, { state: 'failed', hook: blocking.name, error: 'HTTP 500: receiver is down',
    jobId: givenUp.job_id });
  const before = { blocking: await deliveriesOf(blocking.id), notify: await deliveriesOf(notify.id) };

  // Their jobs finish (the engine records them a moment after the ledger), then age past jobs.retention_days.
  const podJobs = () => database.db.selectFrom('jobs').select(['id', 'status'])
    .where((eb) => eb.or([eb(sql<string>`payload->>'pod_id'`, '=', pod), eb(sql<string>`payload->'event'->>'pod_id'`, '=', pod)]))
    .execute();
  const jobs = await waitFor('the four jobs to finish', podJobs,
    (rows) => rows.length === 4 && rows.every((row) => ['completed', 'dead'].includes(row.status)));
  await database.db.updateTable('jobs').set({ created_at: sql<Date>`now() - interval '30 days'`,
    completed_at: sql<Date>`now() - interval '30 days'` }).where('id', 'in', jobs.map((job) => job.id)).execute();
  const pruned = await pruneFinishedJobs(database.db, app.system.settings);
  assert.ok(pruned.jobs >= 4, `pruned ${pruned.jobs}`);
  assert.equal(await podJobs(), [], 'the jobs are gone');

  assert.equal({ blocking: await deliveriesOf(blocking.id), notify: await deliveriesOf(notify.id) }, before);
  assert.equal(await gate(), held, 'the pod is still held, by the same hook and job');
});

test.run();
