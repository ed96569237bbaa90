/**
 * Job engine benchmark (issue 4): this engine against graphile-worker and pg-boss on one embedded PostgreSQL with
 * durable settings (fsync and synchronous_commit on), each run on a fresh database, in this one Node process.
 *
 *   throughput  20,000 no-op jobs bulk-inserted, then workers at concurrency 10 started; until the database shows
 *               none left (our jobs carry keys, and every run writes a job_attempts row)
 *   latency     200 jobs inserted one by one 10 ms apart; handler start minus the moment just before the insert
 *
 * Prints a table, writes bench/results/jobs.json, and prints one JSON line last.
 *   npm run bench:jobs [-- --jobs 20000 --latency-jobs 200]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase, type Db } from '../src/db/database.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { JobEngine } from '../src/jobs/engine.ts';
import { createLogger } from '../src/observability/logger.ts';
import { definitionByName } from '../src/settings/registry.ts';

const { values: args } = parseArgs({ options: {
  jobs: { type: 'string', default: '20000' }, 'latency-jobs': { type: 'string', default: '200' },
  only: { type: 'string' },
} });
/** `--only cloudpods` skips the peers, for quick iterations on this engine. */
const only = args.only;
const JOBS = Number(args.jobs);
const LATENCY_JOBS = Number(args['latency-jobs']);
const CONCURRENCY = 10;
const GAP_MS = 10;
const RUN_LIMIT_MS = 60_000;

interface Row {
  system: string;
  config: string;
  jobs_per_s?: number;
  median_ms?: number;
  p99_ms?: number;
  note?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

// ------------------------------------------------------------------ server and databases

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cloudpods-bench-jobs-'));
const server = await startEmbeddedPostgres({ dataDir, ephemeral: false });
let dbCounter = 0;

async function freshDatabase(): Promise<string> {
  const name = `bench_${++dbCounter}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Polls a count until it reaches zero; returns when it did (ms since the epoch of performance.now()). */
async function untilZero(url: string, countSql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ n: string }>(countSql);
      if (Number(rows[0]!.n) === 0) return performance.now();
      await sleep(2);
    }
  } finally {
    await client.end();
  }
}

/** Resolves once `done()` has been called `n` times, or the run limit passes. */
function countdown(n: number) {
  let left = n;
  let resolve!: () => void;
  const finished = new Promise<void>((r) => { resolve = r; });
  const timer = setTimeout(resolve, RUN_LIMIT_MS);
  return {
    done() { if (--left === 0) { clearTimeout(timer); resolve(); } },
    finished, get left() { return left; },
  };
}

// ------------------------------------------------------------------ this engine

const silent = createLogger({ level: 'silent' });
const settings = {
  async getNumber(name: string) {
    const definition = definitionByName(name);
    if (definition?.type !== 'number') throw new Error(name);
    return name === 'jobs.default_concurrency' ? CONCURRENCY : definition.default;
  },
};

async function ourEngine(url: string, prefetch: number, onJob: (payload: any) => void, asyncHotPathCommit = true) {
  const db = openDatabase({ url, poolMax: 4 });
  await migrateToLatest(db);
  const engine = new JobEngine({ db, databaseUrl: url, logger: silent, settings, name: 'bench', asyncHotPathCommit });
  engine.defineQueue('bench', { concurrency: CONCURRENCY, prefetch });
  engine.defineTask({ queue: 'bench', type: 'noop', handler: async (job) => onJob(job.payload) });
  return { db, engine };
}

async function ourThroughput(prefetch: number, asyncHotPathCommit = true): Promise<Row> {
  const url = await freshDatabase();
  const counter = countdown(JOBS);
  const { db, engine } = await ourEngine(url, prefetch, () => counter.done(), asyncHotPathCommit);
  for (let i = 0; i < JOBS; i += 5000) {
    await engine.enqueueMany(db, Array.from({ length: Math.min(5000, JOBS - i) }, (_, k) =>
      ({ queue: 'bench', type: 'noop', key: `bench:${i + k}`, payload: { i: i + k } })));
  }
  const started = performance.now();
  await engine.start();
  await counter.finished;
  const ended = await untilZero(url, `select count(*) as n from jobs where status in ('pending', 'running')`);
  const attempts = await db.selectFrom('job_attempts').select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  await engine.stop();
  await db.destroy();
  return { system: 'cloudpods',
    config: `prefetch ${prefetch}, keys, job_attempts${asyncHotPathCommit ? '' : ', synchronous_commit on'}`,
    jobs_per_s: Math.round((JOBS - counter.left) / ((ended - started) / 1000)),
    note: `${attempts.n} attempts recorded` };
}

async function ourLatency(): Promise<Row> {
  const url = await freshDatabase();
  const before = new Map<number, number>();
  const latencies: number[] = [];
  const counter = countdown(LATENCY_JOBS);
  const { db, engine } = await ourEngine(url, 0, (payload) => {
    latencies.push(performance.now() - before.get(payload.i)!);
    counter.done();
  });
  await engine.start();
  await sleep(200);
  for (let i = 0; i < LATENCY_JOBS; i++) {
    before.set(i, performance.now());
    await engine.enqueue(db, { queue: 'bench', type: 'noop', key: `latency:${i}`, payload: { i } });
    await sleep(GAP_MS);
  }
  await counter.finished;
  await engine.stop();
  await db.destroy();
  return latencyRow('cloudpods', 'prefetch 0, keys, single enqueue', latencies);
}

function latencyRow(system: string, config: string, latencies: number[]): Row {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { system, config, median_ms: round2(quantile(sorted, 0.5)), p99_ms: round2(quantile(sorted, 0.99)) };
}
const round2 = (n: number) => Math.round(n * 100) / 100;

// ------------------------------------------------------------------ graphile-worker

const graphileBatching = { localQueue: { size: 100 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 };

async function graphileRunner(url: string, batching: boolean, onJob: (payload: any) => void) {
  const { run, makeWorkerUtils } = await import('graphile-worker');
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietGraphileLogger() });
  await utils.migrate();
  return {
    utils,
    start: () => run({
      connectionString: url, concurrency: CONCURRENCY, noHandleSignals: true, pollInterval: 2000,
      logger: quietGraphileLogger(),
      preset: { worker: { ...(batching ? graphileBatching : {}) } },
      taskList: { noop: async (payload: unknown) => onJob(payload) },
    }),
  };
}

function quietGraphileLogger() {
  // graphile's Logger takes a factory of scoped log functions; errors still surface.
  return new (class {
    scope() { return this; }
    debug() {} info() {} warn() {}
    error(message: string) { process.stderr.write(`graphile-worker: ${message}\n`); }
  })() as any;
}

async function graphileThroughput(batching: boolean): Promise<Row> {
  const url = await freshDatabase();
  const counter = countdown(JOBS);
  const { utils, start } = await graphileRunner(url, batching, () => counter.done());
  for (let i = 0; i < JOBS; i += 5000) {
    await utils.addJobs(Array.from({ length: Math.min(5000, JOBS - i) }, (_, k) =>
      ({ identifier: 'noop', payload: { i: i + k } })));
  }
  const started = performance.now();
  const runner = await start();
  await counter.finished;
  const ended = await untilZero(url, 'select count(*) as n from graphile_worker._private_jobs');
  await runner.stop();
  await utils.release();
  return { system: 'graphile-worker', config: batching ? 'localQueue.size=100, completeJobBatchDelay=0' : 'defaults',
    jobs_per_s: Math.round((JOBS - counter.left) / ((ended - started) / 1000)) };
}

async function graphileLatency(batching: boolean): Promise<Row> {
  const url = await freshDatabase();
  const before = new Map<number, number>();
  const latencies: number[] = [];
  const counter = countdown(LATENCY_JOBS);
  const { utils, start } = await graphileRunner(url, batching, (payload) => {
    latencies.push(performance.now() - before.get(payload.i)!);
    counter.done();
  });
  const runner = await start();
  await sleep(200);
  for (let i = 0; i < LATENCY_JOBS; i++) {
    before.set(i, performance.now());
    await utils.addJob('noop', { i });
    await sleep(GAP_MS);
  }
  await counter.finished;
  await runner.stop();
  await utils.release();
  return latencyRow('graphile-worker', batching ? 'localQueue.size=100, completeJobBatchDelay=0' : 'defaults',
    latencies);
}

// ------------------------------------------------------------------ pg-boss

async function pgBoss(url: string) {
  const { PgBoss } = await import('pg-boss') as any;
  const boss = new PgBoss({ connectionString: url, useListenNotify: true, max: 12 });
  boss.on('error', (error: Error) => process.stderr.write(`pg-boss: ${error.message}\n`));
  await boss.start();
  await boss.createQueue('bench', { notify: true });
  return boss;
}

async function pgBossThroughput(batchSize: number): Promise<Row> {
  const url = await freshDatabase();
  const counter = countdown(JOBS);
  const boss = await pgBoss(url);
  for (let i = 0; i < JOBS; i += 5000) {
    await boss.insert('bench', Array.from({ length: Math.min(5000, JOBS - i) }, (_, k) => ({ data: { i: i + k } })));
  }
  const started = performance.now();
  await boss.work('bench', { batchSize, localConcurrency: CONCURRENCY, pollingIntervalSeconds: 0.5,
    burstWhenBatchFull: batchSize > 1 }, async (jobs: unknown[]) => { for (const _ of jobs) counter.done(); });
  await counter.finished;
  const ended = await untilZero(url, `select count(*) as n from pgboss.job where state < 'completed'`)
    .catch(() => performance.now());
  await boss.stop({ graceful: false, wait: true });
  return { system: 'pg-boss', config: `batchSize ${batchSize}, ${CONCURRENCY} local workers, notify`,
    jobs_per_s: Math.round((JOBS - counter.left) / ((ended - started) / 1000)),
    note: counter.left > 0 ? `stopped after ${RUN_LIMIT_MS / 1000} s with ${counter.left} left` : undefined };
}

async function pgBossLatency(): Promise<Row> {
  const url = await freshDatabase();
  const before = new Map<number, number>();
  const latencies: number[] = [];
  const counter = countdown(LATENCY_JOBS);
  const boss = await pgBoss(url);
  await boss.work('bench', { batchSize: 1, localConcurrency: CONCURRENCY, pollingIntervalSeconds: 0.5 },
    async ([job]: Array<{ data: { i: number } }>) => {
      latencies.push(performance.now() - before.get(job!.data.i)!);
      counter.done();
    });
  await sleep(500);
  for (let i = 0; i < LATENCY_JOBS; i++) {
    before.set(i, performance.now());
    await boss.send('bench', { i });
    await sleep(GAP_MS);
  }
  await counter.finished;
  await boss.stop({ graceful: false, wait: true });
  return latencyRow('pg-boss', 'batchSize 1, notify', latencies);
}

// ------------------------------------------------------------------ run

const rows: Row[] = [];
async function measure(what: string, run: () => Promise<Row>): Promise<Row | undefined> {
  if (only && !what.startsWith(only)) return undefined;
  process.stderr.write(`running ${what}...\n`);
  try {
    const row = await run();
    rows.push(row);
    return row;
  } catch (error) {
    rows.push({ system: what, config: '', note: `failed: ${(error as Error).message}` });
    return undefined;
  }
}

const ours = [await measure('cloudpods prefetch 0', () => ourThroughput(0)),
  await measure('cloudpods prefetch 100', () => ourThroughput(100)),
  await measure('cloudpods prefetch 300', () => ourThroughput(300))];
// The same with claims and completions committed durably too (JobEngine asyncHotPathCommit: false).
const oursDurable = await measure('cloudpods prefetch 300 sync', () => ourThroughput(300, false));
const graphile = [await measure('graphile defaults', () => graphileThroughput(false)),
  await measure('graphile batching', () => graphileThroughput(true))];
const boss = [await measure('pg-boss batch 10', () => pgBossThroughput(10)),
  await measure('pg-boss batch 100', () => pgBossThroughput(100))];
const ourLat = await measure('cloudpods latency', ourLatency);
const graphileLat = [await measure('graphile latency defaults', () => graphileLatency(false)),
  await measure('graphile latency batching', () => graphileLatency(true))];
await measure('pg-boss latency', pgBossLatency);

await server.stop();
await fs.rm(dataDir, { recursive: true, force: true });

const best = (list: Array<Row | undefined>) => Math.max(0, ...list.map((r) => r?.jobs_per_s ?? 0));
const bestLatency = (list: Array<Row | undefined>) =>
  Math.min(...list.map((r) => r?.median_ms ?? Infinity));
const summary = {
  jobs_per_s: best(ours),
  graphile_best_jobs_per_s: best(graphile),
  pgboss_best_jobs_per_s: best(boss),
  throughput_ratio_vs_graphile: round2(best(ours) / best(graphile)),
  median_latency_ms: ourLat?.median_ms ?? null,
  p99_latency_ms: ourLat?.p99_ms ?? null,
  graphile_median_latency_ms: bestLatency(graphileLat),
  jobs_per_s_synchronous_commit: oursDurable?.jobs_per_s ?? null,
  latency_ratio_vs_graphile: ourLat?.median_ms ? round2(ourLat.median_ms / bestLatency(graphileLat)) : null,
};

const header = ['system', 'configuration', 'jobs/s', 'p50 ms', 'p99 ms', 'note'];
const table = [header, ...rows.map((r) => [r.system, r.config, r.jobs_per_s?.toLocaleString('en') ?? '',
  r.median_ms?.toFixed(2) ?? '', r.p99_ms?.toFixed(2) ?? '', r.note ?? ''])];
const widths = header.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
for (const line of table) console.log(line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
console.log(`\n${JOBS} jobs at concurrency ${CONCURRENCY}; latency over ${LATENCY_JOBS} jobs ${GAP_MS} ms apart; ` +
  `PostgreSQL with fsync on, ${os.availableParallelism()} cores`);

await fs.mkdir(path.join(import.meta.dirname, 'results'), { recursive: true });
await fs.writeFile(path.join(import.meta.dirname, 'results', 'jobs.json'),
  `${JSON.stringify({ at: new Date().toISOString(), jobs: JOBS, concurrency: CONCURRENCY, rows, summary }, null, 2)}\n`);
console.log(JSON.stringify(summary));
process.exit(0);
