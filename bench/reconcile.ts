/**
 * Reconcile benchmark (issue 7): pods ordered through the REST API and converged by the pod controller on the
 * simulator with realistic costs, in this one process with an embedded PostgreSQL (durable settings).
 *
 *   simulator   3 nodes, 20 ms added to every API call, clone 3 s, start 1 s, guest agent up 1 s after start;
 *               the controller runs at most 3 clones per node at once (CLOUDPODS_PROXMOX_CLONES_PER_NODE)
 *   converge    time from the first order until every pod is active, against the lower bound the parameters
 *               allow: ceil(pods / (nodes x clones per node)) clone rounds, then resize, start and agent of the
 *               last pods, and the serial API calls of one pod after its clone
 *   steady      Proxmox API calls and SQL statements per pod for one reconcile of every settled pod, and for the
 *               periodic resync (which observes the fleet in bulk and enqueues only what differs)
 *   statements  SQL statements per pod from order to active (pg_stat_statements, every connection counted)
 *
 * Prints a table, writes bench/results/reconcile.json, and prints one JSON line last.
 *   npm run bench:reconcile [-- --pods 500]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { simulatorClient } from '../src/cli/dev-proxmox.ts';
import { issueApiToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { podKind } from '../src/pods/kind.ts';
import { systemActor } from '../src/observability/audit.ts';
import { createLogger } from '../src/observability/logger.ts';
import { platformCluster } from '../src/sim/proxmox/presets.ts';
import { startProxmoxSimulator } from '../src/sim/proxmox/simulator.ts';
import { startSystem } from '../src/system.ts';
import { createPool } from '../src/tenancy/ip-pools.ts';
import { CloudPodQuotasService } from '../src/tenancy/quotas.ts';
import { seedDevCatalogue } from '../src/tenancy/seed.ts';
import { createTenant } from '../src/tenancy/tenants.ts';

const { values: args } = parseArgs({ options: { pods: { type: 'string', default: '500' } } });
const PODS = Number(args.pods);
const NODES = 3;
const CLONES_PER_NODE = 3;
const LATENCY_MS = 20;
const durations = { cloneMs: 3_000, startMs: 1_000, agentStartMs: 1_000, resizeMs: 500, configMs: 100 };
/** Calls of one pod after its clone that cannot overlap: read config, write config, resize, start, agent, status. */
const SERIAL_CALLS_AFTER_CLONE = 8;
const ORDER_CONCURRENCY = 20;
const actor = systemActor('bench');
const log = (line: string) => process.stderr.write(`${line}\n`);

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cloudpods-bench-reconcile-'));
await fs.chmod(dataDir, 0o755);
const postgres = await startEmbeddedPostgres({ dataDir, settings: ['shared_preload_libraries=pg_stat_statements',
  'pg_stat_statements.track=all'] });
const admin = new pg.Client({ connectionString: postgres.adminUrl });
await admin.connect();
await admin.query('create database bench');
await admin.end();
const databaseUrl = Object.assign(new URL(postgres.adminUrl), { pathname: '/bench' }).toString();
const stats = new pg.Client({ connectionString: databaseUrl });
await stats.connect();
await stats.query('create extension pg_stat_statements');
/** Statements run in the bench database since the last reset (this client's own reads left out). */
const statements = async () => Number((await stats.query<{ n: string }>(`select coalesce(sum(calls), 0) as n
  from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = 'bench'
  and query not like '%pg_stat_statements%'`)).rows[0]!.n);
const resetStatements = () => stats.query('select pg_stat_statements_reset()');

const logger = createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'error', service: 'bench' });
const sim = await startProxmoxSimulator(platformCluster({ nodes: NODES, durations }));
sim.faults.addLatency({ ms: LATENCY_MS });
const config = loadConfig({ mode: 'dev', env: {}, overrides: {
  'server.port': 0, 'log.level': 'error', 'database.poolMax': 20,
  'proxmox.taskPollIntervalMs': 200, 'proxmox.concurrency.clonesPerNode': CLONES_PER_NODE,
  'proxmox.concurrency.perNode': 16, 'proxmox.vmids.min': 10_000, 'proxmox.vmids.max': 19_999,
} });

const setup = openDatabase({ url: databaseUrl, poolMax: 4 });
await migrateToLatest(setup);
const tenant = await createTenant(setup, { slug: 'bench', name: 'Benchmark tenant' }, actor);
await seedDevCatalogue(setup, tenant.id, actor);
// RFC 2544's benchmarking range, large enough for every pod.
await createPool(setup, { name: 'bench-v4', family: 4, cidr: '198.18.0.0/16', gateway: '198.18.0.1',
  range_start: '198.18.0.10', range_end: '198.18.15.250', bridge: 'vmbr0' }, actor);
const { token } = await issueApiToken(setup, { name: 'bench', tenantId: tenant.id,
  permissions: ['cloudpods.view', 'cloudpods.manage'], isAdmin: false, expiresAt: null }, actor);
await setup.destroy();

const system = await startSystem({ config, logger, databaseUrl, proxmox: simulatorClient(sim, config, logger) });
await new CloudPodQuotasService(system.db, system.settings).setOverride(tenant.id, { pods: 100_000, cpu_cores: 1_000_000,
  memory_mb: 1_000_000_000, disk_gb: 1_000_000_000, bandwidth_gb: null, ipv4: null }, actor);
await system.settings.update({ 'jobs.default_concurrency': 16 }, actor);

const activeCount = async () => (await system.db.selectFrom('cloud_pods').select(({ fn }) => fn.countAll<number>().as('n'))
  .where('status', '=', 'active').executeTakeFirstOrThrow()).n;

// ------------------------------------------------------------------ converge
log(`ordering ${PODS} pods…`);
await resetStatements();
const started = performance.now();
let next = 0;
await Promise.all(Array.from({ length: ORDER_CONCURRENCY }, async () => {
  for (let i = next++; i < PODS; i = next++) {
    const response = await fetch(`${system.http.url}/api/cloud-pods`, { method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench-${i}`, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 8 }) });
    if (response.status !== 202) throw new Error(`order ${i} answered ${response.status}: ${await response.text()}`);
  }
}));
const ordered = performance.now();
for (let last = -1; ;) {
  const active = Number(await activeCount());
  if (active !== last && (active % 50 === 0 || active === PODS)) log(`  ${active} / ${PODS} active after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  last = active;
  if (active >= PODS) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const seconds = (performance.now() - started) / 1000;
const convergeStatements = await statements();
if (process.env.BENCH_TOP_STATEMENTS) {
  // Where the statements of convergence went, for profiling: the most called ones.
  const top = await stats.query<{ calls: string; query: string }>(`select calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 150) as query
    from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = 'bench' order by calls desc limit 25`);
  for (const row of top.rows) log(`${String(Number(row.calls) / PODS).padStart(8)}  ${row.query}`);
}
const rounds = Math.ceil(PODS / (NODES * CLONES_PER_NODE));
const lowerBound = (rounds * durations.cloneMs + durations.resizeMs + durations.startMs + durations.agentStartMs
  + SERIAL_CALLS_AFTER_CLONE * LATENCY_MS) / 1000;

// ------------------------------------------------------------------ steady state
/** Runs jobs of `type` until none is due, then says what they cost per pod. */
async function measure(type: string, enqueue: () => Promise<unknown>): Promise<{ calls: number; statements: number }> {
  // Let the controller's shared cluster snapshot (2 s) expire, so each pays for a fresh one as on any minute.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  await resetStatements();
  const before = sim.stats.requests;
  await enqueue();
  for (;;) {
    const busy = await system.db.selectFrom('jobs').select('id').where('type', 'in', [type, podKind.jobType])
      .where('status', 'in', ['pending', 'running']).where('scheduled_at', '<=', new Date()).limit(1).execute();
    if (busy.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { calls: (sim.stats.requests - before) / PODS, statements: (await statements()) / PODS };
}
const everyPod = await measure(podKind.jobType, async () => podKind.enqueue(system.jobs, system.db,
  (await system.db.selectFrom('cloud_pods').select('id').execute()).map(({ id }) => id)));
const resync = await measure('pod.resync', () => system.jobs.enqueue(system.db,
  { queue: podKind.queue, type: 'pod.resync', key: 'bench:pod.resync', payload: {} }));
const steadyCalls = everyPod.calls;
await stats.end();

await system.stop();
await sim.stop();
await postgres.stop();
await fs.rm(dataDir, { recursive: true, force: true });

const result = {
  pods: PODS, seconds: Number(seconds.toFixed(1)), lower_bound_seconds: Number(lowerBound.toFixed(1)),
  ratio: Number((seconds / lowerBound).toFixed(3)), steady_calls_per_pod: Number(steadyCalls.toFixed(3)),
  ordering_seconds: Number(((ordered - started) / 1000).toFixed(1)),
  statements_per_pod_to_active: Number((convergeStatements / PODS).toFixed(1)),
  settled_reconcile_statements_per_pod: Number(everyPod.statements.toFixed(2)),
  resync_calls_per_pod: Number(resync.calls.toFixed(3)),
  resync_statements_per_pod: Number(resync.statements.toFixed(2)),
};
const table: Array<[string, string]> = [
  ['pods', String(PODS)], ['ordering through the API', `${result.ordering_seconds} s`],
  ['all active after', `${result.seconds} s`], ['lower bound', `${result.lower_bound_seconds} s (${rounds} clone rounds)`],
  ['ratio (target < 1.3)', String(result.ratio)],
  ['SQL statements per pod, order to active', String(result.statements_per_pod_to_active)],
  ['reconcile of a settled pod: Proxmox calls', String(result.steady_calls_per_pod)],
  ['reconcile of a settled pod: SQL statements', String(result.settled_reconcile_statements_per_pod)],
  ['periodic resync: Proxmox calls per pod', String(result.resync_calls_per_pod)],
  ['periodic resync: SQL statements per pod', String(result.resync_statements_per_pod)],
];
for (const [name, value] of table) process.stdout.write(`${name.padEnd(40)} ${value}\n`);
await fs.mkdir(new URL('./results/', import.meta.url), { recursive: true });
await fs.writeFile(new URL('./results/reconcile.json', import.meta.url), `${JSON.stringify({ ...result,
  parameters: { nodes: NODES, clones_per_node: CLONES_PER_NODE, latency_ms: LATENCY_MS, ...durations } }, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
