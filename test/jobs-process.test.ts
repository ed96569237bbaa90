import { spawn, type ChildProcess } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import type { JobEngine } from '../src/jobs/engine.ts';
import { completeJobs } from '../src/jobs/sql/complete.ts';
import { anEngine } from './support/jobs.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { GiveUp, waitFor } from './support/wait.ts';

const test = suite('job engine: worker processes');
let database: TestDatabase;
const children: ChildProcess[] = [];
const engines: JobEngine[] = [];

test.before(async () => {
  database = await testDatabase();
});
test.after(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const engine of engines) await engine.stop();
  await database?.drop();
});

interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  exitCode: () => number | null;
}

function startWorkerProcess(name: string, queue: string): WorkerProcess {
  const child = spawn(process.execPath, ['test/support/jobs-worker.ts', database.url, name, queue],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  let exitCode: number | null = null;
  child.stdout!.on('data', (chunk) => lines.push(...String(chunk).split('\n').filter(Boolean)));
  child.on('exit', (code, signal) => { exitCode = code ?? (signal ? 128 : 0); });
  return { child, lines, exitCode: () => exitCode };
}

function lineFrom(worker: WorkerProcess, prefix: string) {
  return () => {
    const line = worker.lines.find((l) => l.startsWith(prefix));
    if (!line && worker.exitCode() !== null) throw new GiveUp(`worker exited (${worker.exitCode()}): ${worker.lines.join(' | ')}`);
    return line;
  };
}

const jobRow = (id: number) => database.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

test('a worker killed with SIGKILL mid-job has the job run elsewhere, and its late completion is rejected', async () => {
  const queue = 'kill';
  const victim = startWorkerProcess('victim', queue);
  const victimId = (await waitFor('victim ready', lineFrom(victim, 'ready '), Boolean))!.split(' ')[1]!;
  const rescuer = anEngine(database, { name: 'rescuer', tasks: [{ queue: 'other', type: 'noop', handler: async () => {} }] });
  engines.push(rescuer);
  await rescuer.start();
  const { id } = await rescuer.enqueue(database.db, { queue, type: 'work', key: 'pod:1', payload: { hang: true } });
  await waitFor('victim started the job', lineFrom(victim, `started ${id}`), Boolean);
  const held = await jobRow(id);
  assert.equal([held.status, held.locked_by, held.attempts], ['running', victimId, 1]);

  victim.child.kill('SIGKILL');
  // A second process that works the queue picks the job up once the reaper has taken it back.
  const survivor = anEngine(database, { name: 'survivor', tasks: [{ queue, type: 'work', handler: async () => {} }] });
  engines.push(survivor);
  await survivor.start();
  const done = await waitFor('re-run and completed elsewhere', () => jobRow(id), (j) => j.status === 'completed',
    { timeoutMs: 20_000 });
  assert.equal([done.attempts, done.locked_by], [2, survivor.workerIds.get(queue)]);
  const attempts = await database.db.selectFrom('job_attempts').selectAll().where('job_id', '=', id).orderBy('attempt').execute();
  assert.equal(attempts.map((a) => [a.attempt, a.outcome, a.worker_id]),
    [[1, 'rescued', victimId], [2, 'completed', survivor.workerIds.get(queue)]]);
  assert.match(attempts[0]!.error!, /victim\/kill stopped sending heartbeats/);
  const victimRow = await database.db.selectFrom('job_workers').select('status').where('id', '=', victimId).executeTakeFirstOrThrow();
  assert.is(victimRow.status, 'offline');

  // The dead worker's completion, arriving late with its fencing token, changes nothing.
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  const accepted = await completeJobs(pool, [{ id, attempt: 1, workerId: victimId, workerName: 'victim/kill', startedAt: held.started_at! }]);
  await pool.end();
  assert.is(accepted.size, 0);
  assert.equal(await jobRow(id), done);
  const after = await database.db.selectFrom('job_attempts').select('attempt').where('job_id', '=', id).execute();
  assert.is(after.length, 2, 'no attempt recorded for the rejected completion');
});

test('SIGTERM drains: draining, no new claims, in-flight work finishes, unstarted claims handed back, offline', async () => {
  const queue = 'drain';
  const worker = startWorkerProcess('drainer', queue);
  const workerId = (await waitFor('ready', lineFrom(worker, 'ready '), Boolean))!.split(' ')[1]!;
  const enqueuer = anEngine(database, {});
  engines.push(enqueuer);
  await enqueuer.start();
  // Concurrency 1 and prefetch 2: the first job runs, the next two are claimed and wait in the process.
  const ids = await enqueuer.enqueueMany(database.db, [1, 2, 3].map((n) => ({ queue, type: 'work', payload: { ms: 1500, n } })));
  await waitFor('first job started', lineFrom(worker, 'started '), Boolean);
  await waitFor('three claimed', () => database.db.selectFrom('jobs').select('id').where('queue', '=', queue)
    .where('status', '=', 'running').execute(), (rows) => rows.length === 3);
  const runningId = Number(worker.lines.find((l) => l.startsWith('started '))!.split(' ')[1]);

  worker.child.kill('SIGTERM');
  await waitFor('worker draining', () => database.db.selectFrom('job_workers').select('status').where('id', '=', workerId)
    .executeTakeFirstOrThrow(), (w) => w.status === 'draining');
  const handedBack = ids.filter((id) => id !== runningId);
  const released = await waitFor('unstarted claims handed back', () => database.db.selectFrom('jobs').selectAll()
    .where('id', 'in', handedBack).execute(), (rows) => rows.every((r) => r.status === 'pending'));
  assert.equal(released.map((r) => [r.attempts, r.locked_by]), [[0, null], [0, null]], 'as if never claimed');
  await waitFor('process stopped', () => worker.exitCode(), (code) => code !== null);
  assert.is(worker.exitCode(), 0);
  assert.ok(worker.lines.includes(`finished ${runningId}`), 'the running job finished');
  assert.ok(!worker.lines.some((l) => handedBack.some((id) => l === `started ${id}`)), 'no new job started');
  assert.is((await jobRow(runningId)).status, 'completed');
  const row = await database.db.selectFrom('job_workers').select('status').where('id', '=', workerId).executeTakeFirstOrThrow();
  assert.is(row.status, 'offline');
});

test.run();
