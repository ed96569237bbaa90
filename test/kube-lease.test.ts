import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant } from './support/fixtures.ts';
import { startKubeApiserver, type FakeKubeApiserver } from './support/kube-apiserver/index.ts';
import { cloudPod, podsPath } from './support/kube.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

/** Two replicas on one database and one Lease: one bridges, the other takes over when it dies. */
const test = suite('kube lease');
let api: FakeKubeApiserver;
let database: TestDatabase;
const apps: TestApp[] = [];
const leaseSeconds = 2;

test.before(async () => {
  api = await startKubeApiserver({ bookmarkIntervalMs: 200 });
  database = await testDatabase();
  await aTenant(database.db, 'acme');
  for (let i = 0; i < 2; i++) {
    apps.push(await startTestApp({ databaseUrl: database.url, overrides: { 'kube.kubeconfig': api.kubeconfigPath,
      'kube.leaseDurationSeconds': leaseSeconds, 'kube.renewDeadlineSeconds': 1, 'kube.retryPeriodMs': 200,
      'kube.resyncIntervalMs': 200 } }));
  }
});
test.after(async () => {
  for (const app of apps) await app.stop();
  await api?.stop();
  await database?.drop();
});

const leaders = () => apps.filter((app) => app.system.kube?.elector.isLeader);
const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${api.url}${path}`, { method, headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  return response.json() as Promise<any>;
};

test('only one replica holds the lease and bridges', async () => {
  await waitFor('a leader', () => leaders().length, (n) => n === 1);
  await waitFor('one CloudPod watch', () => api.faults.openWatches('/cloudpods?'), (n) => n === 1);
  const lease = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/cloudpods-bridge');
  assert.is(lease.spec.leaseDurationSeconds, leaseSeconds);
  assert.ok(lease.spec.holderIdentity);
  // Stays one over several renewals.
  for (let i = 0; i < 5; i++) {
    await waitFor('a renewal', async () => (await call('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/cloudpods-bridge')).spec.renewTime,
      (t) => t !== lease.spec.renewTime);
    assert.is(leaders().length, 1);
  }
});

test('when the leader dies, the other takes over within the lease time and bridges', async () => {
  await call('POST', '/api/v1/namespaces', { metadata: { name: 'team', labels: { 'cloudpods.mpanel.io/tenant': 'acme' } } });
  const [leader] = leaders();
  const other = apps.find((app) => app !== leader)!;
  const killedAt = Date.now();
  await leader!.stop(); // no release: the lease must expire, as after a crash
  await waitFor('the other replica leads', () => other.system.kube!.elector.isLeader, (v) => v,
    { timeoutMs: leaseSeconds * 1000 + 2000 });
  const tookOver = Date.now() - killedAt;
  assert.ok(tookOver <= leaseSeconds * 1000 + 1000, `took over after ${tookOver} ms`);
  const lease = await call('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/cloudpods-bridge');
  assert.is(lease.spec.leaseTransitions, 1);
  await call('POST', podsPath('team'), cloudPod('web-1'));
  await waitFor('the new leader adds the finalizer', async () => (await call('GET', podsPath('team', 'web-1'))).metadata.finalizers,
    (f) => Array.isArray(f) && f.length === 1);
  apps.splice(apps.indexOf(leader!), 1);
});

test.run();
