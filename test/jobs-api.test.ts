import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NewJob } from '../src/db/schema.ts';
import { pruneFinishedJobs } from '../src/jobs/retention.ts';
import { pruneAudit } from '../src/observability/audit-retention.ts';
import { pruneSystemEvents } from '../src/observability/events-retention.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { fakeSettings } from './support/jobs.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('job engine: admin API and retention');
let database: TestDatabase;
let app: TestApp;
let admin: string;
let tenantAdminless: string;
let allPermissionsNoAdmin: string;

async function insertJob(values: Partial<NewJob> & { queue: string; type: string }): Promise<number> {
  const row = await database.db.insertInto('jobs').values(values).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/**
 * One test's jobs, as the engine leaves them, in queues named after the test (`<prefix>-cloudpods`, `-webhooks`,
 * `-metrics`) that no worker of the test app runs, so the rows stay as written and no other test counts them.
 */
async function aJobSet(prefix: string) {
  const queue = (name: string) => `${prefix}-${name}`;
  const ids = {
    pending: await insertJob({ queue: queue('cloudpods'), type: 'pod.reconcile', key: 'pod:1' }),
    later: await insertJob({ queue: queue('cloudpods'), type: 'pod.reconcile', key: 'pod:2',
      scheduled_at: new Date(Date.now() + 3_600_000) }),
    dead: await insertJob({ queue: queue('webhooks'), type: 'hook.deliver', status: 'dead', attempts: 10, max_attempts: 10,
      last_error: 'Error: 503', completed_at: new Date() }),
    failed: await insertJob({ queue: queue('webhooks'), type: 'hook.deliver', status: 'failed', attempts: 1,
      completed_at: new Date() }),
    completed: await insertJob({ queue: queue('metrics'), type: 'metrics.sample', status: 'completed', attempts: 1,
      completed_at: new Date() }),
  };
  await database.db.insertInto('job_attempts').values([1, 2].map((attempt) => ({
    job_id: ids.dead, attempt, started_at: new Date(), finished_at: new Date(), outcome: attempt === 2 ? 'dead' as const : 'failed' as const,
    error: 'Error: 503', worker_name: 'w/webhooks',
  }))).execute();
  return { ids, queue };
}

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  admin = (await aToken(database.db, { admin: true })).token;
  tenantAdminless = (await aToken(database.db, { tenant: await aTenant(database.db), permissions: ['health.view'] })).token;
  // Every permission but no admin scope.
  allPermissionsNoAdmin = (await aToken(database.db, { tenant: await aTenant(database.db), permissions: ['settings.manage',
    'cloudpods.view', 'cloudpods.manage', 'cloudpods.volumes.manage', 'health.view', 'hooks.manage', 'plans.manage'] })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

const get = (path: string, token = admin) => app.request('GET', path, { token });
const post = (path: string, token = admin) => app.request('POST', path, { token });

test('every job endpoint needs an admin token', async () => {
  const { ids } = await aJobSet('guarded');
  const paths: Array<[string, string]> = [['GET', '/api/admin/jobs'], ['GET', `/api/admin/jobs/${ids.dead}`],
    ['POST', `/api/admin/jobs/${ids.dead}/retry`], ['POST', `/api/admin/jobs/${ids.pending}/cancel`],
    ['GET', '/api/admin/job-workers'], ['GET', '/api/admin/queues']];
  for (const [method, path] of paths) {
    assert.is((await app.request(method, path)).status, 401, `${method} ${path} without a token`);
    for (const token of [tenantAdminless, allPermissionsNoAdmin]) {
      const response = await app.request(method, path, { token });
      assert.is(response.status, 403, `${method} ${path}`);
      assert.equal(response.body.error.details.missing, ['admin']);
    }
  }
  assert.is((await get(`/api/admin/jobs/${ids.dead}`)).body.job.status, 'dead', 'nothing was changed');
});

test('GET /api/admin/jobs filters by queue, status and type, newest first, paginated', async () => {
  const { ids, queue } = await aJobSet('listed');
  const webhooks = await get(`/api/admin/jobs?queue=${queue('webhooks')}`);
  assert.is(webhooks.status, 200);
  assert.equal(webhooks.body.jobs.map((j: any) => j.id), [ids.failed, ids.dead]);
  assert.equal((await get(`/api/admin/jobs?status=dead&queue=${queue('webhooks')}`)).body.jobs.map((j: any) => j.id), [ids.dead]);
  assert.equal((await get(`/api/admin/jobs?type=pod.reconcile&status=pending&queue=${queue('cloudpods')}`)).body.jobs
    .map((j: any) => j.id), [ids.later, ids.pending]);
  const paged = await get(`/api/admin/jobs?type=pod.reconcile&queue=${queue('cloudpods')}&per_page=1&page=2`);
  assert.equal(paged.body.jobs.map((j: any) => j.id), [ids.pending]);
  assert.equal(paged.body.meta.pagination, { page: 2, per_page: 1, total_entries: 2, last_page: 2, previous_page: 1, next_page: null });
  const bad = await get('/api/admin/jobs?status=stuck&per_page=0');
  assert.is(bad.status, 400);
  assert.equal(bad.body.error.details.fields.map((f: any) => f.name).sort(), ['query.per_page', 'query.status']);
});

test('GET /api/admin/jobs/:id shows the job with its attempts; unknown ids are 404', async () => {
  const { ids, queue } = await aJobSet('shown');
  const response = await get(`/api/admin/jobs/${ids.dead}`);
  assert.is(response.status, 200);
  assert.equal([response.body.job.queue, response.body.job.last_error], [queue('webhooks'), 'Error: 503']);
  assert.equal(response.body.attempts.map((a: any) => [a.attempt, a.outcome]), [[1, 'failed'], [2, 'dead']]);
  assert.is((await get('/api/admin/jobs/999999')).status, 404);
  assert.is((await get('/api/admin/jobs/abc')).status, 404);
});

test('retry puts a dead or failed job back to pending with a fresh budget; other statuses conflict', async () => {
  const { ids } = await aJobSet('retried');
  const response = await post(`/api/admin/jobs/${ids.dead}/retry`);
  assert.is(response.status, 200);
  assert.equal([response.body.job.status, response.body.job.attempts, response.body.job.max_attempts], ['pending', 10, 20]);
  assert.is((await post(`/api/admin/jobs/${ids.failed}/retry`)).body.job.status, 'pending');
  const conflict = await post(`/api/admin/jobs/${ids.completed}/retry`);
  assert.equal([conflict.status, conflict.body.error.code], [409, 'conflict']);
  assert.is((await post('/api/admin/jobs/999999/retry')).status, 404);
  const audit = (await database.db.selectFrom('cloud_pod_audit').selectAll().where('action', '=', 'job.retried').orderBy('id')
    .execute()).filter((a) => Object.values(ids).includes(a.details.job_id as number));
  assert.equal(audit.map((a) => [a.details.job_id, a.actor_type]), [[ids.dead, 'token'], [ids.failed, 'token']]);
});

test('cancel ends a pending job failed and audits it; a finished job conflicts', async () => {
  const { ids } = await aJobSet('cancelled');
  const response = await post(`/api/admin/jobs/${ids.later}/cancel`);
  assert.is(response.status, 200);
  assert.is(response.body.job.status, 'failed');
  assert.match(response.body.job.last_error, /^cancelled by token /);
  assert.is((await post(`/api/admin/jobs/${ids.later}/cancel`)).status, 409);
  const audit = (await database.db.selectFrom('cloud_pod_audit').selectAll().where('action', '=', 'job.cancelled').execute())
    .filter((a) => Object.values(ids).includes(a.details.job_id as number));
  assert.equal(audit.map((a) => a.details.job_id), [ids.later]);
});

test('cancelling a running job aborts its handler and rejects its completion', async () => {
  let aborted = false;
  // The system's engine runs only the maintenance queue; this test runs one of its own for a backup job.
  const { JobEngine } = await import('../src/jobs/engine.ts');
  const { createLogger } = await import('../src/observability/logger.ts');
  const engine = new JobEngine({ db: database.db, databaseUrl: database.url, logger: createLogger({ level: 'silent' }),
    settings: fakeSettings() });
  engine.defineTask({ queue: 'backups', type: 'backup.run', handler: (_job, { signal }) => new Promise((resolve) => {
    signal.addEventListener('abort', () => { aborted = true; resolve(); });
  }) });
  await engine.start();
  try {
    const { id } = await engine.enqueue(database.db, { queue: 'backups', type: 'backup.run' });
    await waitFor('running', () => get(`/api/admin/jobs/${id}`), (r) => r.body.job.status === 'running');
    const running = await get(`/api/admin/jobs/${id}`);
    assert.equal(running.body.attempts.map((a: any) => [a.attempt, a.outcome, a.finished_at]), [[1, null, null]]);
    assert.is((await post(`/api/admin/jobs/${id}/cancel`)).body.job.status, 'failed');
    await waitFor('handler aborted', () => aborted, Boolean);
    const after = await get(`/api/admin/jobs/${id}`);
    assert.is(after.body.job.status, 'failed');
    assert.equal(after.body.attempts.map((a: any) => [a.attempt, a.outcome]), [[1, 'cancelled']]);
  } finally {
    await engine.stop();
  }
});

test('GET /api/admin/job-workers and /api/admin/queues show the workers and per-queue depth', async () => {
  // A queue with a job due and one cancelled, and one whose only job failed.
  await insertJob({ queue: 'depth-cloudpods', type: 'pod.reconcile', key: 'pod:1' });
  await insertJob({ queue: 'depth-cloudpods', type: 'pod.reconcile', key: 'pod:2', status: 'failed', completed_at: new Date() });
  await insertJob({ queue: 'depth-backups', type: 'backup.run', status: 'failed', attempts: 1, completed_at: new Date() });
  const workers = await get('/api/admin/job-workers');
  assert.is(workers.status, 200);
  const maintenance = workers.body.workers.find((w: any) => w.queue === 'maintenance' && w.status === 'online');
  assert.ok(maintenance, 'the running system\'s own maintenance worker');
  assert.ok(workers.body.meta.pagination.total_entries >= 1);
  const queues = await get('/api/admin/queues');
  assert.is(queues.status, 200);
  const byName = Object.fromEntries(queues.body.queues.map((q: any) => [q.queue, q]));
  assert.equal(byName['depth-cloudpods'].depth, { pending: 1, running: 0, completed: 0, failed: 1, dead: 0 });
  assert.is(byName['depth-cloudpods'].due, 1);
  assert.ok(byName['depth-cloudpods'].oldest_pending_age_seconds >= 0);
  assert.is(byName['depth-backups'].completed_last_minute, 0);
  assert.is(byName['depth-backups'].depth.failed, 1);
  assert.ok(queues.body.workers.some((w: any) => w.queue === 'maintenance' && w.last_heartbeat_at));
});

test('retention deletes only what is older than its setting: finished jobs with attempts, audit, system events', async () => {
  const { ids } = await aJobSet('pruned');
  const old = new Date(Date.now() - 40 * 86_400_000);
  const oldDone = await insertJob({ queue: 'metrics', type: 'old', status: 'completed', created_at: old, completed_at: old });
  const oldPending = await insertJob({ queue: 'metrics', type: 'old', created_at: old, scheduled_at: old });
  await database.db.insertInto('job_attempts').values({ job_id: oldDone, attempt: 1, started_at: old, finished_at: old,
    outcome: 'completed' }).execute();
  for (const created_at of [old, new Date()]) {
    await database.db.insertInto('cloud_pod_audit').values({ actor_type: 'system', category: 'job', action: 'x', created_at }).execute();
    await database.db.insertInto('system_events').values({ service: 'api', level: 'warn', message: 'm', created_at }).execute();
  }
  const settings = fakeSettings({ 'jobs.retention_days': 30, 'cloudpods.audit.retention_days': 30, 'cloudpods.events.retention_days': 30 });
  const pruned = await pruneFinishedJobs(database.db, settings, 1);
  assert.is(pruned.jobs, 1);
  const left = await database.db.selectFrom('jobs').select('id').where('id', 'in', [oldDone, oldPending, ids.completed]).execute();
  assert.equal(left.map((r) => r.id).sort((a, b) => a - b), [ids.completed, oldPending].sort((a, b) => a - b));
  assert.is((await database.db.selectFrom('job_attempts').select('id').where('job_id', '=', oldDone).execute()).length, 0);

  const auditBefore = await database.db.selectFrom('cloud_pod_audit').select('id').execute();
  assert.is(await pruneAudit(database.db, settings), 1);
  assert.is((await database.db.selectFrom('cloud_pod_audit').select('id').execute()).length, auditBefore.length - 1);
  const eventsBefore = await database.db.selectFrom('system_events').select('id').execute();
  assert.is(await pruneSystemEvents(database.db, settings), 1);
  assert.is((await database.db.selectFrom('system_events').select('id').execute()).length, eventsBefore.length - 1);
  const oldest = await sql<{ oldest: Date }>`select min(created_at) as oldest from system_events`.execute(database.db);
  assert.ok(oldest.rows[0]!.oldest.getTime() > old.getTime());
});

test('the running system schedules the daily maintenance jobs', () => {
  assert.equal(app.system.jobs.schedules.map((s) => [s.name, s.queue, s.cadence]), [
    ['jobs.prune', 'maintenance', { cron: '10 3 * * *' }],
    ['audit.prune', 'maintenance', { cron: '20 3 * * *' }],
    ['system_events.prune', 'maintenance', { cron: '30 3 * * *' }],
    ['idempotency_keys.prune', 'maintenance', { cron: '35 3 * * *' }],
    ['subscriptions.expire', 'maintenance', { cron: '40 3 * * *' }],
    ['hook_deliveries.prune', 'maintenance', { cron: '45 3 * * *' }],
  ]);
});

test.run();
