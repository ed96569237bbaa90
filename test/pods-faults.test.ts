import { spawn, type ChildProcess } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ownedBy } from '../src/proxmox/vm-ownership.ts';
import { freePort } from '../src/net/free-port.ts';
import { platformCluster } from '../src/sim/proxmox/presets.ts';
import { seedDevCatalogue } from '../src/tenancy/seed.ts';
import { startTestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { startPlatform, type Platform } from './support/platform.ts';
import { testDatabase } from './support/postgres.ts';
import { startTestSimulator, type TestSimulator } from './support/proxmox-sim.ts';
import { waitFor } from './support/wait.ts';

/** Crashes and flaky Proxmox: pods still converge, with exactly one VM each and no VM left without a pod. */
const test = suite('pod controller under faults');
const actor = { type: 'system' as const, id: 'test' };
const quickRetries = { 'jobs.initial_retry_delay_seconds': 1, 'jobs.max_retry_delay_seconds': 2,
  'jobs.heartbeat_interval_seconds': 1, 'jobs.worker_timeout_seconds': 3, 'jobs.poll_interval_ms': 200 };

/** Every VM carrying CloudPods' marks, by VMID, with the pod it names. */
function markedVms(sim: TestSimulator): Map<number, string> {
  const marked = new Map<number, string>();
  for (const [vmid, vm] of sim.sim.cluster.vms) {
    const description = String(vm.config.description ?? '');
    const pod = /pod=([0-9a-f-]{36})/.exec(description)?.[1];
    if (pod && ownedBy(pod, { description, tags: String(vm.config.tags ?? '') })) marked.set(vmid, pod);
  }
  return marked;
}

async function assertOneVmPerPod(db: Platform['database']['db'], sim: TestSimulator): Promise<void> {
  const pods = await db.selectFrom('cloud_pods').select(['id', 'vmid']).execute();
  const marked = markedVms(sim);
  for (const [vmid, podId] of marked) {
    const pod = pods.find((p) => p.id === podId);
    assert.ok(pod, `VM ${vmid} names pod ${podId}, which does not exist: a leaked VM`);
    assert.is(pod!.vmid, vmid, `VM ${vmid} is a duplicate of pod ${podId}'s VM ${pod!.vmid}`);
  }
  for (const pod of pods) assert.ok(marked.has(pod.vmid!), `pod ${pod.id} has no VM`);
}

test('30% transient failures and lock errors: 50 pods converge with no duplicate and no leaked VM', async () => {
  const platform = await startPlatform({ sim: { durations: { agentStartMs: 100 } } });
  try {
    await platform.app.system.settings.update(quickRetries, actor);
    const { faults } = platform.sim.sim;
    faults.addErrorRule({ path: '^/(cluster|nodes)/', rate: 0.15, status: 500, message: 'proxy loop detected (simulated)' });
    faults.addErrorRule({ method: 'POST', path: '/qemu/\\d+/(clone|status/start)$', rate: 0.15, status: 500,
      message: "can't lock file '/var/lock/qemu-server/lock-9001.conf' - got timeout" });
    faults.addErrorRule({ method: 'PUT', path: '/qemu/\\d+/(config|resize)$', rate: 0.15, status: 500,
      message: 'VM is locked (backup)' });
    const ids = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const response = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token,
        body: { name: `flaky-${i}`, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 512, disk_gb: 8 } });
      assert.is(response.status, 202, JSON.stringify(response.body));
      return response.body.pod.id as string;
    }));
    await waitFor('all 50 pods active', async () => (await platform.database.db.selectFrom('cloud_pods')
      .select('status').where('status', '=', 'active').execute()).length, (n) => n === 50,
    { timeoutMs: 240_000, intervalMs: 250 });
    faults.clear();
    assert.is(ids.length, 50);
    await assertOneVmPerPod(platform.database.db, platform.sim);
    const failed = await platform.database.db.selectFrom('job_attempts').select('id').where('outcome', '=', 'failed').execute();
    assert.ok(failed.length > 0, 'the faults did make reconciles fail and retry');
  } finally {
    await platform.stop();
  }
});

/** `cloudpods serve`, the production entry, as a separate process against the suite's database and simulator. */
function serve(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [new URL('../src/cli.ts', import.meta.url).pathname, 'serve'],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  return child;
}

test('a worker killed with SIGKILL in the middle of a clone, then restarted, gives exactly one VM', async () => {
  const database = await testDatabase();
  const sim = await startTestSimulator(platformCluster({ durations: { cloneMs: 2_000, agentStartMs: 100 } }));
  const children: ChildProcess[] = [];
  try {
    const tenant = await aTenant(database.db, 'acme');
    await seedDevCatalogue(database.db, tenant.id, actor);
    const token = (await aToken(database.db, { tenant, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
    // Settings for quick rescue are rows, shared by every process; set them through a short-lived app.
    const setup = await startTestApp({ databaseUrl: database.url });
    await setup.system.settings.update(quickRetries, actor);
    await setup.stop();

    const port = await freePort();
    const env = {
      DATABASE_URL: database.url, CLOUDPODS_HOST: '127.0.0.1', CLOUDPODS_PORT: String(port), LOG_LEVEL: 'warn',
      CLOUDPODS_PROXMOX_URL: sim.sim.url, CLOUDPODS_PROXMOX_TOKEN_ID: sim.sim.token.id,
      CLOUDPODS_PROXMOX_TOKEN_SECRET: sim.sim.token.secret, CLOUDPODS_PROXMOX_TLS_FINGERPRINT: sim.sim.tlsFingerprint,
      CLOUDPODS_PROXMOX_SSH_HOST: sim.sim.host, CLOUDPODS_PROXMOX_SSH_PORT: String(sim.sim.sshPort),
      CLOUDPODS_PROXMOX_SSH_USER: sim.sim.sshUser, CLOUDPODS_PROXMOX_SSH_PRIVATE_KEY: sim.sim.sshPrivateKey!,
      CLOUDPODS_PROXMOX_SSH_HOST_KEY_FINGERPRINT: sim.sim.hostKeyFingerprint,
      CLOUDPODS_PROXMOX_TASK_POLL_INTERVAL_MS: '50', CLOUDPODS_PROXMOX_VMID_MIN: '1000', CLOUDPODS_PROXMOX_VMID_MAX: '1999',
    };
    const api = `http://127.0.0.1:${port}`;
    const first = serve(env);
    children.push(first);
    await waitFor('the first process to serve', async () => (await fetch(`${api}/readyz`)).status, (s) => s === 200,
      { timeoutMs: 30_000 });
    const ordered = await (await fetch(`${api}/api/cloud-pods`, { method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'survivor', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 }) }))
      .json() as any;
    const podId: string = ordered.pod.id;
    await waitFor('the clone to be under way', () => database.db.selectFrom('cloud_pods').select('task_upid')
      .where('id', '=', podId).executeTakeFirstOrThrow(), (p) => p.task_upid?.includes(':qmclone:') ?? false,
    { timeoutMs: 30_000 });
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    const second = serve(env);
    children.push(second);
    await waitFor('the pod to become active after the restart', () => database.db.selectFrom('cloud_pods')
      .select('status').where('id', '=', podId).executeTakeFirstOrThrow(), (p) => p.status === 'active',
    { timeoutMs: 60_000, intervalMs: 100 });
    const marked = [...markedVms(sim)];
    assert.is(marked.length, 1, `exactly one VM: ${JSON.stringify(marked)}`);
    const pod = await database.db.selectFrom('cloud_pods').select('vmid').where('id', '=', podId).executeTakeFirstOrThrow();
    assert.equal(marked[0], [pod.vmid, podId]);
    sim.conformance.assertClean();
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await sim.stop();
    await database.drop();
  }
});

test.run();
