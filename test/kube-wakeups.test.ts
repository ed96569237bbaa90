import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aTenant } from './support/fixtures.ts';
import { anActiveCloudPod, cloudPod, podsPath, readyOf, startKubePlatform, type KubePlatform } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

/**
 * What wakes the bridge besides the resource's own watch events: row changes (notifications), namespace labels
 * (a namespace watch). The resync is an hour here, so everything below happens without it.
 */
const test = suite('kube wake-ups');
let k: KubePlatform;
/**
 * The tests that relabel a namespace each have one of their own, labelled for the tenant, holding an active CloudPod
 * of the same name (pod names are the tenant's), applied before the tests.
 */
const relabelled = ['moved', 'unlabelled', 'held'] as const;
let provisioned: Record<typeof relabelled[number], any>;
test.before(async () => {
  k = await startKubePlatform({ 'kube.resyncIntervalMs': 3_600_000 });
  const applied = await Promise.all(relabelled.map(async (namespace) => {
    await k.call('POST', '/api/v1/namespaces', { metadata: { name: namespace,
      labels: { 'cloudpods.mpanel.io/tenant': k.platform.tenant.slug } } });
    return anActiveCloudPod(k, namespace, {}, namespace);
  }));
  provisioned = Object.fromEntries(relabelled.map((namespace, i) => [namespace, applied[i]])) as typeof provisioned;
});
test.after(async () => { await k?.stop(); });

const get = async (name: string, namespace: string) => (await k.call('GET', podsPath(namespace, name))).body;
const waitResource = (name: string, namespace: string, what: string, accept: (r: any) => boolean) =>
  waitFor(`CloudPod ${namespace}/${name} ${what}`, () => get(name, namespace), accept, { timeoutMs: 30_000, intervalMs: 100 });
const relabel = (namespace: string, slug: string | null) => k.call('PATCH', `/api/v1/namespaces/${namespace}`,
  { metadata: { labels: { 'cloudpods.mpanel.io/tenant': slug } } }, 'application/merge-patch+json');
const rowOf = (uid: string) => k.platform.database.db.selectFrom('cloud_pods').selectAll().where('kube_uid', '=', uid)
  .executeTakeFirstOrThrow();

test('status follows the row as the controller works, with no resync: Ready, then a spec edit observed', async () => {
  await k.call('POST', podsPath(k.namespace), cloudPod('quick'));
  const ready = await waitResource('quick', k.namespace, 'Ready', (r) => readyOf(r)?.status === 'True' && r.status.phase === 'active');
  assert.ok(ready.status.vmid > 0 && ready.status.ipAddresses.length > 0, 'VMID and addresses reported');
  await k.call('PATCH', podsPath(k.namespace, 'quick'), { spec: { memoryMb: 2048 } }, 'application/merge-patch+json');
  await waitResource('quick', k.namespace, 'observed generation 2',
    (r) => r.status?.observedGeneration === 2 && readyOf(r)?.status === 'True');
  const vm = k.platform.sim.sim.cluster.vms.get(ready.status.vmid)!;
  assert.is(String(vm.pending.memory ?? vm.config.memory), '2048');
});

test('a sync that fails (the apiserver answers 500 twice) is retried with backoff, not left for the resync', async () => {
  k.api.faults.failNth({ method: 'PATCH', path: '/cloudpods/flaky', status: 500, times: 2 });
  await k.call('POST', podsPath(k.namespace), cloudPod('flaky', { powerState: 'stopped' }));
  const resource = await waitResource('flaky', k.namespace, 'Ready', (r) => readyOf(r)?.status === 'True');
  assert.equal(resource.metadata.finalizers, ['cloudpods.mpanel.io/finalizer']);
  const patches = k.api.calls.filter((c) => c.method === 'PATCH' && c.path.includes('/cloudpods/flaky'));
  assert.ok(patches.length >= 3, 'two refused, then the finalizer and status went through');
  await k.call('DELETE', podsPath(k.namespace, 'flaky'));
  await waitFor('CloudPod flaky gone', () => k.call('GET', podsPath(k.namespace, 'flaky')), (r) => r.status === 404,
    { timeoutMs: 30_000, intervalMs: 100 });
});

test('labelling a namespace provisions what waited there as TenantUnknown', async () => {
  await k.call('POST', '/api/v1/namespaces', { metadata: { name: 'late' } });
  const created = await k.call('POST', podsPath('late'), cloudPod('waiting', { powerState: 'stopped' }));
  await waitResource('waiting', 'late', 'TenantUnknown', (r) => readyOf(r)?.reason === 'TenantUnknown');
  await relabel('late', k.platform.tenant.slug);
  await waitResource('waiting', 'late', 'Ready', (r) => readyOf(r)?.status === 'True');
  assert.is((await rowOf(created.body.metadata.uid)).tenant_id, k.platform.tenant.id);
});

test('relabelling a namespace to another tenant moves nothing: TenantChanged, spec held, until the label is back', async () => {
  const namespace = 'moved';
  const resource = provisioned[namespace];
  const uid = resource.metadata.uid;
  const other = await aTenant(k.platform.database.db, 'other-co');
  await relabel(namespace, other.slug);
  const held = await waitResource(namespace, namespace, 'TenantChanged', (r) => readyOf(r)?.reason === 'TenantChanged');
  assert.is(readyOf(held).status, 'False');
  assert.match(readyOf(held).message, /now belongs to tenant other-co/);
  assert.match(readyOf(held).message, new RegExp(`stays with tenant ${k.platform.tenant.slug}`));
  assert.is(held.status.vmid, resource.status.vmid, 'the rest of the status stays');
  const events = (await k.call('GET', `/apis/events.k8s.io/v1/namespaces/${namespace}/events`)).body.items;
  assert.ok(events.some((e: any) => e.reason === 'TenantChanged' && e.type === 'Warning' && e.regarding.uid === uid));

  const edited = await k.call('PATCH', podsPath(namespace, namespace), { spec: { cpuCores: 2 } }, 'application/merge-patch+json');
  const row = await rowOf(uid);
  assert.equal([row.tenant_id, row.cpu_cores], [k.platform.tenant.id, 1], 'the row keeps its tenant and its spec');
  assert.ok(k.platform.sim.sim.cluster.vms.get(resource.status.vmid)!.running, 'the VM runs on');

  await relabel(namespace, k.platform.tenant.slug);
  await waitResource(namespace, namespace, 'Ready again with the held edit',
    (r) => readyOf(r)?.status === 'True' && r.status.observedGeneration === edited.body.metadata.generation);
  assert.is((await rowOf(uid)).cpu_cores, 2);
});

test('removing the label holds a provisioned resource the same way', async () => {
  const namespace = 'unlabelled';
  await relabel(namespace, null);
  const held = await waitResource(namespace, namespace, 'TenantChanged', (r) => readyOf(r)?.reason === 'TenantChanged');
  assert.match(readyOf(held).message, /no longer names a tenant/);
  await relabel(namespace, k.platform.tenant.slug);
  await waitResource(namespace, namespace, 'Ready', (r) => readyOf(r)?.status === 'True');
});

test('deleting still works while held, and the finalizer goes once the VM is gone', async () => {
  const namespace = 'held';
  const vmid = provisioned[namespace].status.vmid;
  await relabel(namespace, (await aTenant(k.platform.database.db)).slug);
  await waitResource(namespace, namespace, 'TenantChanged', (r) => readyOf(r)?.reason === 'TenantChanged');
  await k.call('DELETE', podsPath(namespace, namespace));
  await waitFor(`CloudPod ${namespace} gone`, () => k.call('GET', podsPath(namespace, namespace)), (r) => r.status === 404,
    { timeoutMs: 30_000, intervalMs: 100 });
  assert.is(k.platform.sim.sim.cluster.vms.get(vmid), undefined, 'the VM is destroyed');
});

test.run();
