import { spawn, type ChildProcess } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aTenant } from './support/fixtures.ts';
import { startKubeApiserver, type FakeKubeApiserver } from './support/kube-apiserver/index.ts';
import { cloudPod, podsPath } from './support/kube.ts';
import { bridgeServiceAccount } from './support/kube-rbac.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

/** Two `cloudpods serve` processes on one database and one Lease: one bridges; SIGKILL it and the other takes over. */
const test = suite('kube lease');
let api: FakeKubeApiserver;
let database: TestDatabase;
const replicas: Array<{ child: ChildProcess; output: string[] }> = [];
const leaseSeconds = 2;
const leasePath = '/apis/coordination.k8s.io/v1/namespaces/default/leases/cloudpods-bridge';

function startReplica(): { child: ChildProcess; output: string[] } {
  const child = spawn(process.execPath, ['src/cli.ts', 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env: {
    ...process.env, DATABASE_URL: database.url, CLOUDPODS_PORT: '0', CLOUDPODS_HOST: '127.0.0.1', LOG_LEVEL: 'info',
    CLOUDPODS_KUBECONFIG: api.kubeconfigFor('cloudpods-bridge'), CLOUDPODS_KUBE_LEASE_DURATION_SECONDS: String(leaseSeconds),
    CLOUDPODS_KUBE_RENEW_DEADLINE_SECONDS: '1', CLOUDPODS_KUBE_RETRY_PERIOD_MS: '200', CLOUDPODS_KUBE_RESYNC_INTERVAL_MS: '200',
  } });
  const replica = { child, output: [] as string[] };
  child.stdout!.on('data', (chunk) => replica.output.push(...String(chunk).split('\n').filter(Boolean)));
  child.stderr!.on('data', (chunk) => replica.output.push(String(chunk)));
  replicas.push(replica);
  return replica;
}

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${api.url}${path}`, { method, headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  return response.json() as Promise<any>;
};
const holder = async () => (await call('GET', leasePath)).spec?.holderIdentity as string | undefined;
const pidOf = (identity: string | undefined) => Number(identity?.split('_').at(-2));

/** Once both replicas started their front door: the pid of the one holding the lease. */
async function leaderOnceStarted(): Promise<number> {
  await waitFor('both replicas started the front door', () => replicas.map((r) => r.output.some((l) => l.includes('front door started'))),
    (started) => started.every(Boolean), { timeoutMs: 20_000 });
  return pidOf(await waitFor('a lease holder', holder, Boolean));
}

test.before(async () => {
  api = await startKubeApiserver({ bookmarkIntervalMs: 200, serviceAccounts: [bridgeServiceAccount()] });
  database = await testDatabase();
  await aTenant(database.db, 'acme');
  await call('POST', '/api/v1/namespaces', { metadata: { name: 'team', labels: { 'cloudpods.mpanel.io/tenant': 'acme' } } });
  startReplica();
  startReplica();
});
test.after(async () => {
  for (const { child } of replicas) if (child.exitCode === null) child.kill('SIGKILL');
  await api?.stop();
  await database?.drop();
});

test('only one replica holds the lease and bridges', async () => {
  const leader = await leaderOnceStarted();
  assert.ok(replicas.some((r) => r.child.pid === leader), 'a replica holds it');
  await waitFor('one CloudPod watch', () => api.faults.openWatches('/cloudpods?'), (n) => n === 1);
  // Among the replicas still running (the takeover test kills one).
  const alive = replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  const leading = alive.filter((r) => r.output.some((l) => l.includes('became the Kubernetes bridge leader')));
  assert.equal(leading.map((r) => r.child.pid), [leader]);
  for (let i = 0; i < 3; i++) {
    const renewed = (await call('GET', leasePath)).spec.renewTime;
    await waitFor('a renewal', async () => (await call('GET', leasePath)).spec.renewTime, (t) => t !== renewed);
    assert.is(pidOf(await holder()), leader, 'the same holder renews');
    assert.is(api.faults.openWatches('/cloudpods?'), 1, 'one bridge');
  }
});

test('SIGKILL the leader: the other takes over within the lease time and bridges', async () => {
  const leaderPid = await leaderOnceStarted();
  const leader = replicas.find((r) => r.child.pid === leaderPid)!;
  const other = replicas.find((r) => r !== leader)!;
  const killedAt = Date.now();
  leader.child.kill('SIGKILL');
  await waitFor('the other replica holds the lease', holder, (h) => pidOf(h) === other.child.pid,
    { timeoutMs: leaseSeconds * 1000 + 3000, intervalMs: 50 });
  const tookOver = Date.now() - killedAt;
  assert.ok(tookOver <= leaseSeconds * 1000 + 1000, `took over after ${tookOver} ms`);
  assert.is((await call('GET', leasePath)).spec.leaseTransitions, 1);
  await call('POST', podsPath('team'), cloudPod('web-1'));
  await waitFor('the new leader adds the finalizer', async () => (await call('GET', podsPath('team', 'web-1'))).metadata.finalizers,
    (f) => Array.isArray(f) && f.length === 1);
});

test.run();
