import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cancelJob, retryJob } from '../src/jobs/admin.ts';
import type { JobEngine } from '../src/jobs/engine.ts';
import { PermanentJobError, ReportedJobError, type JobStatusListener, type RunningJob } from '../src/jobs/types.ts';
import { systemActor } from '../src/observability/audit.ts';
import { anEngine, fakeSettings, quickSettings } from './support/jobs.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('job engine on PostgreSQL');
let database: TestDatabase;
const engines: JobEngine[] = [];

test.before(async () => {
  database = await testDatabase();
});
test.after(async () => {
  for (const engine of engines) await engine.stop();
  await database?.drop();
});

/** Starts an engine whose tasks are on a queue of this test's own, so tests do not see each other's jobs. */
async function started(...args: Parameters<typeof anEngine>): Promise<JobEngine> {
  const engine = anEngine(...args);
  engines.push(engine);
  await engine.start();
  return engine;
}
let queueCounter = 0;
const aQueue = () => `q${++queueCounter}`;

const jobRow = (id: number) => database.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const attemptsOf = (id: number) => database.db.selectFrom('job_attempts').selectAll().where('job_id', '=', id)
  .orderBy('attempt').execute();

test('a job runs once, completes, and its attempt is recorded with the worker', async () => {
  const queue = aQueue();
  const runs: RunningJob[] = [];
  const engine = await started(database, { name: 'solo', tasks: [{ queue, type: 'hello', handler: async (job) => { runs.push(job); } }] });
  const { id } = await engine.enqueue(database.db, { queue, type: 'hello', payload: { who: 'world' } });
  const job = await waitFor('completed', () => jobRow(id), (j) => j.status === 'completed');
  assert.equal([runs.length, runs[0]!.payload, runs[0]!.attempt], [1, { who: 'world' }, 1]);
  assert.ok(job.completed_at && job.started_at);
  const [attempt, ...more] = await attemptsOf(id);
  assert.is(more.length, 0);
  assert.equal([attempt!.outcome, attempt!.attempt, attempt!.worker_name, attempt!.worker_id],
    ['completed', 1, `solo/${queue}`, engine.workerIds.get(queue)]);
  assert.is(job.max_attempts, 25, 'default max attempts from jobs.max_attempts');
});

test('failures retry on the backoff schedule read from settings, then the job is dead', async () => {
  const queue = aQueue();
  const settings = fakeSettings({ ...quickSettings, 'jobs.max_attempts': 3, 'jobs.initial_retry_delay_seconds': 1 });
  const engine = await started(database, { settings, tasks: [{ queue, type: 'flaky', handler: async () => {
    throw new Error('backend unavailable');
  } }] });
  const { id } = await engine.enqueue(database.db, { queue, type: 'flaky' });
  const job = await waitFor('dead', () => jobRow(id), (j) => j.status === 'dead', { timeoutMs: 20_000 });
  assert.equal([job.attempts, job.max_attempts, job.last_error], [3, 3, 'Error: backend unavailable']);
  const attempts = await attemptsOf(id);
  assert.equal(attempts.map((a) => [a.attempt, a.outcome, a.error]), [
    [1, 'failed', 'Error: backend unavailable'], [2, 'failed', 'Error: backend unavailable'],
    [3, 'dead', 'Error: backend unavailable']]);
  // Each retry waited the delay of the schedule (1 s, then 2 s; jitter is 0 here), give or take the poll.
  const gaps = [1, 2].map((i) => attempts[i]!.started_at.getTime() - attempts[i - 1]!.finished_at!.getTime());
  assert.ok(gaps[0]! >= 950 && gaps[0]! < 1900, `first retry after ${gaps[0]} ms`);
  assert.ok(gaps[1]! >= 1950 && gaps[1]! < 2900, `second retry after ${gaps[1]} ms`);
  const audit = await database.db.selectFrom('cloud_pod_audit').selectAll().where('category', '=', 'job').execute();
  assert.is(audit.filter((a) => a.details.job_id === id).length, 0, 'a job type not marked critical is not audited');
});

test('a critical job type that dies is audited (category job); a permanent error ends a job failed at once', async () => {
  const queue = aQueue();
  const settings = fakeSettings({ ...quickSettings, 'jobs.max_attempts': 1 });
  const engine = await started(database, { settings, tasks: [
    { queue, type: 'backup.run', critical: true, handler: async () => { throw new Error('disk full'); } },
    { queue, type: 'bad.spec', handler: async () => { throw new PermanentJobError('template does not exist'); } },
  ] });
  const dead = await engine.enqueue(database.db, { queue, type: 'backup.run' });
  const failed = await engine.enqueue(database.db, { queue, type: 'bad.spec', maxAttempts: 10 });
  await waitFor('dead', () => jobRow(dead.id), (j) => j.status === 'dead');
  const failedJob = await waitFor('failed', () => jobRow(failed.id), (j) => j.status === 'failed');
  assert.equal([failedJob.attempts, failedJob.last_error], [1, 'PermanentJobError: template does not exist']);
  const audit = await database.db.selectFrom('cloud_pod_audit').selectAll()
    .where('category', '=', 'job').where('action', '=', 'job.dead').execute();
  const entry = audit.find((a) => a.details.job_id === dead.id);
  assert.ok(entry, 'audited');
  assert.equal([entry!.actor_type, entry!.details.type, entry!.details.error], ['system', 'backup.run', 'Error: disk full']);
  assert.is(audit.filter((a) => a.details.job_id === failed.id).length, 0);
});

test('a job running past its type\'s timeout has its signal aborted and the run fails', async () => {
  const queue = aQueue();
  let aborted: unknown;
  const engine = await started(database, { settings: fakeSettings({ ...quickSettings, 'jobs.max_attempts': 1 }), tasks: [{
    queue, type: 'slow', timeoutMs: 200,
    handler: (_job, { signal }) => new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { aborted = signal.reason; reject(signal.reason); });
    }),
  }] });
  const { id } = await engine.enqueue(database.db, { queue, type: 'slow' });
  const job = await waitFor('dead', () => jobRow(id), (j) => j.status === 'dead');
  assert.match(job.last_error!, /JobTimeoutError: timed out after 200 ms/);
  assert.instance(aborted, Error);
});

test('a type\'s onStatusChange hears, in the transaction that makes it, of an end its handler did not report', async () => {
  const queue = aQueue();
  const heard: unknown[] = [];
  const onStatusChange: JobStatusListener = async (trx, change) => {
    const { status } = await trx.selectFrom('jobs').select('status').where('id', '=', change.jobId).executeTakeFirstOrThrow();
    heard.push([change.jobId, change.type, change.status, change.error, `${status} in the transaction`]);
  };
  const engine = await started(database, { settings: fakeSettings({ ...quickSettings, 'jobs.max_attempts': 1 }), tasks: [
    { queue, type: 'broken', handler: async () => { throw new Error('boom'); }, onStatusChange },
    { queue, type: 'reported', handler: async () => { throw new ReportedJobError('told its owner'); }, onStatusChange },
  ] });
  const broken = await engine.enqueue(database.db, { queue, type: 'broken' });
  const reported = await engine.enqueue(database.db, { queue, type: 'reported' });
  for (const { id } of [broken, reported]) await waitFor('dead', () => jobRow(id), (j) => j.status === 'dead');
  assert.equal(heard, [[broken.id, 'broken', 'dead', 'Error: boom', 'dead in the transaction']]);

  // An admin's retry and cancel, through the engine that knows the type.
  const statusChanged: JobStatusListener = (trx, change) => engine.statusChanged(trx, change);
  heard.length = 0;
  const later = await engine.enqueue(database.db, { queue, type: 'broken', runAt: new Date(Date.now() + 3_600_000) });
  assert.ok((await cancelJob(database.db, later.id, systemActor('test'), undefined, statusChanged)).ok);
  assert.ok((await retryJob(database.db, reported.id, systemActor('test'), undefined, statusChanged)).ok);
  assert.equal(heard, [[later.id, 'broken', 'failed', 'cancelled by system test', 'failed in the transaction'],
    [reported.id, 'reported', 'pending', null, 'pending in the transaction']]);
});

test('enqueueing a pending key coalesces: one job, earliest time, highest priority, newest payload', async () => {
  const queue = aQueue(); // no worker on this queue: the jobs stay pending
  const engine = await started(database, {});
  const later = new Date(Date.now() + 3_600_000);
  const first = await engine.enqueue(database.db, { queue, type: 'pod.reconcile', key: 'pod:1', payload: { v: 1 }, runAt: later, priority: 5 });
  const second = await engine.enqueue(database.db, { queue, type: 'pod.reconcile', key: 'pod:1', payload: { v: 2 }, priority: 1 });
  const third = await engine.enqueue(database.db, { queue, type: 'pod.reconcile', key: 'pod:1', payload: { v: 3 }, runAt: later });
  assert.equal([first.inserted, second.inserted, third.inserted], [true, false, false]);
  assert.is(second.id, first.id);
  const rows = await database.db.selectFrom('jobs').selectAll().where('queue', '=', queue).execute();
  assert.is(rows.length, 1);
  assert.equal([rows[0]!.payload, rows[0]!.priority], [{ v: 3 }, 5]);
  assert.ok(rows[0]!.scheduled_at.getTime() < later.getTime() - 3_000_000, 'the earlier time (now) won');
  const other = await engine.enqueue(database.db, { queue, type: 'pod.reconcile', key: 'pod:2' });
  assert.ok(other.inserted && other.id !== first.id, 'another key is another job');
});

test('bulk enqueue inserts many jobs in one statement, merging keys with each other and with pending jobs', async () => {
  const queue = aQueue();
  const engine = await started(database, {});
  const existing = await engine.enqueue(database.db, { queue, type: 't', key: 'k0', priority: 0 });
  const ids = await engine.enqueueMany(database.db, [
    { queue, type: 't', key: 'k0', priority: 3 }, { queue, type: 't', key: 'k1' }, { queue, type: 't', key: 'k1', payload: { last: true } },
    { queue, type: 't' }, { queue, type: 't' },
  ]);
  assert.is(ids.length, 4);
  assert.is(ids[0], existing.id);
  const rows = await database.db.selectFrom('jobs').selectAll().where('queue', '=', queue).orderBy('id').execute();
  assert.equal(rows.map((r) => [r.key, r.priority, r.payload]), [['k0', 3, {}], ['k1', 0, { last: true }], [null, 0, {}], [null, 0, {}]]);
});

test('an enqueue rolled back with its transaction leaves no job', async () => {
  const queue = aQueue();
  const runs: number[] = [];
  const engine = await started(database, { tasks: [{ queue, type: 'pod.reconcile', handler: async (job) => { runs.push(job.id); } }] });
  let enqueued = 0;
  await database.db.transaction().execute(async (trx) => {
    enqueued = (await engine.enqueue(trx, { queue, type: 'pod.reconcile', key: 'pod:rolled-back' })).id;
    throw new Error('the desired-state write failed');
  }).catch(() => {});
  assert.ok(enqueued > 0);
  assert.is(await database.db.selectFrom('jobs').select('id').where('id', '=', enqueued).executeTakeFirst(), undefined);
  // A committed one in the same queue runs; the rolled-back one never did.
  const committed = await database.db.transaction().execute((trx) =>
    engine.enqueue(trx, { queue, type: 'pod.reconcile', key: 'pod:committed' }));
  await waitFor('the committed job ran', () => runs, (r) => r.includes(committed.id));
  assert.equal(runs, [committed.id]);
});

test('enqueueing a key while its job runs gives exactly one more run after it', async () => {
  const queue = aQueue();
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const engine = await started(database, { tasks: [{ queue, type: 'pod.reconcile', handler: async (job) => {
    events.push(`start ${job.payload.v}`);
    if (job.payload.v === 1) await gate;
    events.push(`end ${job.payload.v}`);
  } }] });
  await engine.enqueue(database.db, { queue, type: 'pod.reconcile', key: 'pod:7', payload: { v: 1 } });
  await waitFor('first run started', () => events, (e) => e.includes('start 1'));
  for (const v of [2, 3, 4]) await engine.enqueue(database.db, { queue, type: 'pod.reconcile', key: 'pod:7', payload: { v } });
  const pending = await database.db.selectFrom('jobs').select(['status']).where('queue', '=', queue).execute();
  assert.equal(pending.map((p) => p.status).sort(), ['pending', 'running'], 'one running, one pending');
  release();
  await waitFor('second run ended', () => events, (e) => e.includes('end 4'));
  const rows = await waitFor('both completed', () => database.db.selectFrom('jobs').select('status')
    .where('queue', '=', queue).execute(), (r) => r.every((j) => j.status === 'completed'));
  assert.equal(events, ['start 1', 'end 1', 'start 4', 'end 4'], 'the newest payload ran once, after the first run');
  assert.is(rows.length, 2);
});

test('no two workers run the same key at once: 8 engines, 4 producers, hot keys', async () => {
  const queue = aQueue();
  const intervals = new Map<string, Array<[number, number]>>();
  let runs = 0;
  const handler = async (job: RunningJob) => {
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 4));
    const list = intervals.get(job.key!) ?? [];
    list.push([start, performance.now()]);
    intervals.set(job.key!, list);
    runs++;
  };
  const pool: JobEngine[] = [];
  for (let i = 0; i < 8; i++) pool.push(await started(database, { name: `w${i}`, concurrency: 4, tasks: [{ queue, type: 'hot', handler }] }));
  const keys = ['a', 'b', 'c', 'd', 'e'];
  const producers = Array.from({ length: 4 }, async (_, p) => {
    for (let n = 0; n < 60; n++) {
      await pool[(p + n) % 8]!.enqueue(database.db, { queue, type: 'hot', key: keys[n % keys.length]!, payload: { p, n } });
      if (n % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
  await Promise.all(producers);
  await waitFor('queue drained', () => database.db.selectFrom('jobs').select('id').where('queue', '=', queue)
    .where('status', 'in', ['pending', 'running']).execute(), (rows) => rows.length === 0, { timeoutMs: 30_000 });
  assert.ok(runs >= keys.length, `${runs} runs`);
  for (const [key, list] of intervals) {
    list.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < list.length; i++) {
      assert.ok(list[i]![0] >= list[i - 1]![1], `key ${key}: run ${i} started before run ${i - 1} ended`);
    }
  }
  const workersUsed = await database.db.selectFrom('job_attempts').innerJoin('jobs', 'jobs.id', 'job_attempts.job_id')
    .select('job_attempts.worker_id').distinct().where('jobs.queue', '=', queue).execute();
  assert.ok(workersUsed.length > 1, 'the work was spread over several engines');
});

test('a schedule fires once per tick across two engines', async () => {
  const queue = aQueue();
  const ticks: string[] = [];
  const task = { queue, type: 'sweep', handler: async (job: RunningJob) => { ticks.push(String(job.payload.tick)); } };
  const replicas = [anEngine(database, { name: 'a', tasks: [task] }), anEngine(database, { name: 'b', tasks: [task] })];
  for (const engine of replicas) {
    engine.defineSchedule({ name: `${queue}-sweep`, queue, type: 'sweep', cadence: { everyMs: 500 } });
    engines.push(engine);
    await engine.start();
  }
  await waitFor('four ticks ran', () => ticks, (t) => t.length >= 4);
  for (const engine of replicas) await engine.stop();
  const rows = await database.db.selectFrom('jobs').select(['key', 'status']).where('queue', '=', queue).execute();
  const keys = rows.map((r) => r.key);
  assert.is(new Set(keys).size, keys.length, 'one job per tick');
  assert.is(new Set(ticks).size, ticks.length, 'each tick ran once');
  for (const tick of ticks) assert.is(new Date(tick).getTime() % 500, 0, 'ticks are aligned');
});

test('queue depth and job metrics are exported when a registry is given', async () => {
  const { Registry } = await import('prom-client');
  const { JobEngine } = await import('../src/jobs/engine.ts');
  const { createLogger } = await import('../src/observability/logger.ts');
  const registry = new Registry();
  const queue = aQueue();
  const engine = new JobEngine({ db: database.db, databaseUrl: database.url, logger: createLogger({ level: 'silent' }),
    settings: fakeSettings(quickSettings), registry });
  engine.defineTask({ queue, type: 'ok', handler: async () => {} });
  engines.push(engine);
  await engine.start();
  const { id } = await engine.enqueue(database.db, { queue, type: 'ok' });
  await waitFor('completed', () => jobRow(id), (j) => j.status === 'completed');
  await engine.enqueue(database.db, { queue: `${queue}-idle`, type: 'waits' });
  const text = await waitFor('completion counted', () => registry.metrics(),
    (t) => t.includes(`cloudpods_jobs_completed_total{queue="${queue}",type="ok"} 1`));
  assert.match(text, `cloudpods_jobs_enqueued_total{queue="${queue}",type="ok"} 1`);
  assert.match(text, `cloudpods_jobs_queue_depth{queue="${queue}-idle",status="pending"} 1`);
  assert.match(text, `cloudpods_job_pickup_latency_seconds_count{queue="${queue}"} 1`);
  assert.match(text, `cloudpods_job_run_duration_seconds_count{queue="${queue}",type="ok"} 1`);
  assert.match(text, 'cloudpods_jobs_oldest_pending_age_seconds');
});

test.run();
