import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { volumeSerial } from '../controllers/volume/disks.ts';
import type { VolumeRow } from '../src/db/schema.ts';
import { changeOf, orderOf, statusOf, type CloudPodVolumeSpec } from '../src/kube/volume-mapping.ts';
import { anActiveCloudPod, kindPath, podsPath, readyOf, startKubePlatform, type KubePlatform } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

/** Pure mapping between a CloudPodVolume and its row. */
const mapping = suite('kube volume mapping');

const spec: CloudPodVolumeSpec = { podName: 'web-1', sizeGb: 10 };
const attachedReady = { type: 'Ready', status: 'True' as const, reason: 'Attached', message: 'attached at scsi1',
  lastTransitionTime: '2026-01-01T00:00:00.000Z', observedGeneration: 3 };
const row = (fields: Partial<VolumeRow> = {}): VolumeRow => ({ id: 'v1', size_gb: 10, attached: true, status: 'attached',
  generation: 3, observed_generation: 3, conditions: [attachedReady], proxmox_volume_id: 'local-lvm:vm-1001-disk-1',
  slot: 'scsi1', ...fields } as VolumeRow);
const resource = (generation: number, previous?: number, edit: Partial<CloudPodVolumeSpec> = {}) => ({
  metadata: { generation }, spec: { ...spec, ...edit }, ...(previous ? { status: { observedGeneration: previous } } : {}) });

mapping('orderOf: the resource name and spec as the REST order, attached by default', () => {
  assert.equal(orderOf('web-1-data', spec), { name: 'web-1-data', size_gb: 10, storage_pool: undefined, attached: true });
  assert.equal(orderOf('d', { ...spec, sizeGb: 5, storagePool: 'fast', attached: false }),
    { name: 'd', size_gb: 5, storage_pool: 'fast', attached: false });
});

mapping('changeOf: the size and the attachment that differ', () => {
  const cases: Array<[Partial<VolumeRow>, Partial<CloudPodVolumeSpec>, Record<string, unknown>]> = [
    [{}, {}, {}],
    [{}, { attached: true }, {}],
    [{}, { sizeGb: 20 }, { size_gb: 20 }],
    [{}, { attached: false }, { attached: false }],
    [{ attached: false }, {}, { attached: true }],
    [{ size_gb: 30 }, { sizeGb: 20 }, { size_gb: 20 }], // passed on: the order refuses a shrink
    [{ attached: false }, { sizeGb: 11, attached: false }, { size_gb: 11 }],
  ];
  for (const [fields, edit, expected] of cases) {
    assert.equal(changeOf(row(fields), { ...spec, ...edit }), expected, `${JSON.stringify(fields)} ${JSON.stringify(edit)}`);
  }
});

mapping('statusOf: the resource generation is observed only when the row converged on the same spec', () => {
  const cases: Array<[string, VolumeRow, ReturnType<typeof resource>, number | undefined]> = [
    ['converged', row(), resource(2), 2],
    ['row still working', row({ observed_generation: 2 }), resource(2, 1), 1],
    ['spec not yet in the row', row(), resource(3, 2, { sizeGb: 20 }), 2],
    ['never observed', row({ observed_generation: 1, generation: 2 }), resource(1), undefined],
  ];
  for (const [name, volume, res, expected] of cases) {
    const status = statusOf(volume, res);
    assert.is(status.observedGeneration, expected, name);
    assert.is(status.conditions![0]!.observedGeneration, expected, `${name}: conditions follow`);
  }
  assert.equal(statusOf(row(), resource(1)), { phase: 'attached', observedGeneration: 1, volumeId: 'v1',
    proxmoxVolumeId: 'local-lvm:vm-1001-disk-1', slot: 'scsi1', conditions: [{ ...attachedReady, observedGeneration: 1 }] });
  const creating = statusOf(row({ status: 'creating', proxmox_volume_id: null, slot: null }), resource(1));
  assert.is('proxmoxVolumeId' in creating || 'slot' in creating, false, 'absent, not null');
});

mapping.run();

/**
 * CloudPodVolume resources through the bridge, end to end against the Proxmox simulator and the fake kube-apiserver.
 * Tests apply volumes of their own on web-1; one about a pod's first slot or its deletion has a CloudPod of its own.
 */
const test = suite('kube volumes');
let k: KubePlatform;
type Pod = { podId: string; vmid: number };
let web: Pod;
let fresh: Pod;
let carrier: Pod;
test.before(async () => {
  k = await startKubePlatform();
  [web, fresh, carrier] = await Promise.all([applyPod('web-1'), applyPod('fresh-1'), applyPod('db-2')]);
});
test.after(async () => { await k?.stop(); });

const volumesPath = (namespace: string, name = '') => kindPath('cloudpodvolumes', namespace, name);
const cloudPodVolume = (name: string, edit: Record<string, unknown> = {}) => ({ apiVersion: 'cloudpods.mpanel.io/v1alpha1',
  kind: 'CloudPodVolume', metadata: { name }, spec: { podName: 'web-1', sizeGb: 10, ...edit } });
const get = async (name: string, namespace = k.namespace) => (await k.call('GET', volumesPath(namespace, name))).body;
const waitVolume = (name: string, what: string, accept: (r: any) => boolean, namespace = k.namespace) =>
  waitFor(`CloudPodVolume ${name} ${what}`, () => get(name, namespace), accept, { timeoutMs: 30_000, intervalMs: 100 });
const patchSpec = (name: string, edit: Record<string, unknown>) =>
  k.call('PATCH', volumesPath(k.namespace, name), { spec: edit }, 'application/merge-patch+json');
const rowOf = (uid: string) => k.platform.database.db.selectFrom('cloud_pod_volumes').selectAll().where('kube_uid', '=', uid)
  .executeTakeFirst();
const eventsOf = async (uid: string) => (await k.call('GET', `/apis/events.k8s.io/v1/namespaces/${k.namespace}/events`)).body
  .items.filter((e: any) => e.regarding.uid === uid).sort((a: any, b: any) => a.eventTime.localeCompare(b.eventTime));
const vmConfig = (vmid: number) => k.platform.sim.sim.cluster.vms.get(vmid)!.config as Record<string, string>;
/** The VM config keys holding this disk. */
const keysHolding = (vmid: number, volid: string) => Object.entries(vmConfig(vmid))
  .filter(([key, value]) => /^(scsi|unused)\d+$/.test(key) && value.split(',')[0] === volid).map(([key]) => key);
const settled = (phase: string, generation: number) => (r: any) => r.status?.phase === phase
  && readyOf(r)?.status === 'True' && r.status.observedGeneration === generation && readyOf(r).observedGeneration === generation;

async function applyPod(name: string): Promise<Pod> {
  const pod = await anActiveCloudPod(k, name);
  return { podId: pod.status.podId, vmid: pod.status.vmid };
}

/** Applies a CloudPodVolume (on web-1 unless told) and waits until it settles in `phase` at generation 1. */
async function aSettledVolume(name: string, phase: 'attached' | 'detached', edit: Record<string, unknown> = {})
  : Promise<{ uid: string; resource: any }> {
  const created = await k.call('POST', volumesPath(k.namespace), cloudPodVolume(name, edit));
  assert.is(created.status, 201, JSON.stringify(created.body));
  return { uid: created.body.metadata.uid, resource: await waitVolume(name, phase, settled(phase, 1)) };
}

test('a CloudPodVolume of an applied CloudPod is attached in a free slot, with its status and a kube-managed row', async () => {
  const created = await k.call('POST', volumesPath(k.namespace), cloudPodVolume('fresh-1-data', { podName: 'fresh-1' }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const uid = created.body.metadata.uid;
  const resource = await waitVolume('fresh-1-data', 'attached', settled('attached', 1));
  assert.equal(resource.metadata.finalizers, ['cloudpods.mpanel.io/finalizer']);
  const volid = resource.status.proxmoxVolumeId;
  const volumeId = resource.status.volumeId;
  assert.match(volid, new RegExp(`^local-lvm:vm-${fresh.vmid}-disk-\\d+$`));
  assert.is(resource.status.slot, 'scsi1');
  assert.match(vmConfig(fresh.vmid).scsi1!, new RegExp(`^${volid},serial=${volumeSerial(volumeId)},size=10G$`));
  assert.is(k.platform.sim.sim.cluster.volumes.get(volid)?.sizeBytes, 10 * 1024 ** 3);
  const row = (await rowOf(uid))!;
  assert.equal([row.id, row.managed_by, row.kube_namespace, row.kube_name, row.name, row.pod_id, row.tenant_id],
    [volumeId, 'kubernetes', k.namespace, 'fresh-1-data', 'fresh-1-data', fresh.podId, k.platform.tenant.id]);
  const reasons = (await eventsOf(uid)).map((e: any) => `${e.type}/${e.reason}`);
  assert.ok(reasons.includes('Normal/Created') && reasons.includes('Normal/Ready'), reasons.join(','));
});

test('a volume applied before its CloudPod reports PodNotFound, then is attached once the pod exists', async () => {
  const created = await k.call('POST', volumesPath(k.namespace), cloudPodVolume('db-1-data', { podName: 'db-1', sizeGb: 4 }));
  const waiting = await waitVolume('db-1-data', 'PodNotFound', (r) => readyOf(r)?.reason === 'PodNotFound');
  assert.is(readyOf(waiting).status, 'False');
  assert.match(readyOf(waiting).message, /no CloudPod db-1 in namespace team-acme/);
  assert.is(waiting.status.observedGeneration, 1);
  assert.is(await rowOf(created.body.metadata.uid), undefined, 'no row yet');
  const events = await eventsOf(created.body.metadata.uid);
  assert.ok(events.some((e: any) => e.type === 'Warning' && e.reason === 'PodNotFound'));
  const db = await applyPod('db-1');
  const attached = await waitVolume('db-1-data', 'attached', settled('attached', 1));
  assert.is(attached.status.slot, 'scsi1');
  assert.equal(keysHolding(db.vmid, attached.status.proxmoxVolumeId), ['scsi1']);
});

test('sizeGb grows: the disk grows and observedGeneration follows', async () => {
  const { uid, resource: { status: { proxmoxVolumeId: volid, slot } } } = await aSettledVolume('grown-data', 'attached');
  const patched = await patchSpec('grown-data', { sizeGb: 15 });
  assert.is(patched.body.metadata.generation, 2);
  await waitVolume('grown-data', 'grown', settled('attached', 2));
  assert.match(vmConfig(web.vmid)[slot]!, /size=15G$/);
  assert.is(k.platform.sim.sim.cluster.volumes.get(volid)?.sizeBytes, 15 * 1024 ** 3);
  assert.is((await rowOf(uid))!.size_gb, 15);
  assert.ok((await eventsOf(uid)).some((e: any) => e.reason === 'Updated' && /size_gb/.test(e.note)));
});

test('attached: false detaches: the disk becomes an unused disk of the VM and the slot is released', async () => {
  const { resource: { status: { proxmoxVolumeId: volid } } } = await aSettledVolume('cold-data', 'attached');
  const patched = await patchSpec('cold-data', { attached: false });
  const detached = await waitVolume('cold-data', 'detached', settled('detached', patched.body.metadata.generation));
  assert.is(detached.status.slot, undefined);
  assert.is(detached.status.proxmoxVolumeId, volid);
  const keys = keysHolding(web.vmid, volid);
  assert.is(keys.length, 1);
  assert.match(keys[0]!, /^unused\d+$/);
  assert.ok(k.platform.sim.sim.cluster.volumes.has(volid), 'the disk is kept');
});

test('REST answers 409 managed_by_kubernetes to resize, attach, detach and delete of the volume, and still shows it', async () => {
  const { resource: { status: { proxmoxVolumeId: volid, volumeId } } } = await aSettledVolume('kept-data', 'detached',
    { sizeGb: 15, attached: false });
  const token = k.platform.token;
  const base = `/api/cloud-pods/${web.podId}/volumes/${volumeId}`;
  for (const [method, path, body] of [['POST', `${base}/resize`, { size_gb: 20 }], ['POST', `${base}/attach`, undefined],
    ['POST', `${base}/detach`, undefined], ['DELETE', base, undefined]] as const) {
    const response = await k.platform.app.request(method, path, { token, ...(body ? { body } : {}) });
    assert.equal([response.status, response.body.error?.code], [409, 'managed_by_kubernetes'], `${method} ${path}`);
    assert.match(response.body.error.message, /team-acme\/kept-data/);
  }
  const shown = await k.platform.app.request('GET', base, { token });
  assert.equal([shown.status, shown.body.volume.managed_by, shown.body.volume.status.phase, shown.body.volume.spec.size_gb],
    [200, 'kubernetes', 'detached', 15]);
  assert.ok(k.platform.sim.sim.cluster.volumes.has(volid), 'nothing was destroyed');
});

test('a volume over the disk quota reports QuotaExceeded and writes no row', async () => {
  const quotas = k.platform.app.system.quotas;
  const limits = { pods: 1000, cpu_cores: 10_000, memory_mb: 100_000_000, bandwidth_gb: null, ipv4: null };
  await quotas.setOverride(k.platform.tenant.id, { ...limits, disk_gb: 100 }, { type: 'system', id: 'test' });
  try {
    const created = await k.call('POST', volumesPath(k.namespace), cloudPodVolume('huge', { sizeGb: 500 }));
    const refused = await waitVolume('huge', 'QuotaExceeded', (r) => readyOf(r)?.reason === 'QuotaExceeded');
    assert.is(readyOf(refused).status, 'False');
    assert.match(readyOf(refused).message, /disk_gb/);
    assert.is(await rowOf(created.body.metadata.uid), undefined);
    assert.ok((await eventsOf(created.body.metadata.uid)).some((e: any) => e.type === 'Warning' && e.reason === 'QuotaExceeded'));
    await k.call('DELETE', volumesPath(k.namespace, 'huge'));
    await waitVolume('huge', 'gone', (r) => r.code === 404);
  } finally {
    await quotas.setOverride(k.platform.tenant.id, { ...limits, disk_gb: 1_000_000 }, { type: 'system', id: 'test' });
  }
});

test('a volume on a storage the cluster does not have reports StorageNotFound and writes no row', async () => {
  const created = await k.call('POST', volumesPath(k.namespace), cloudPodVolume('nowhere', { storagePool: 'no-such-pool' }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const refused = await waitVolume('nowhere', 'StorageNotFound', (r) => readyOf(r)?.reason === 'StorageNotFound');
  assert.is(readyOf(refused).status, 'False');
  assert.match(readyOf(refused).message, /storage_pool: no storage no-such-pool on node pve\d/);
  assert.is(await rowOf(created.body.metadata.uid), undefined);
  assert.ok((await eventsOf(created.body.metadata.uid)).some((e: any) => e.type === 'Warning' && e.reason === 'StorageNotFound'));
  await k.call('DELETE', volumesPath(k.namespace, 'nowhere'));
  await waitVolume('nowhere', 'gone', (r) => r.code === 404);
});

test('a volume on a storage that holds no VM disks reports StorageNotForDisks and writes no row', async () => {
  const created = await k.call('POST', volumesPath(k.namespace), cloudPodVolume('isos', { storagePool: 'local' }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const refused = await waitVolume('isos', 'StorageNotForDisks', (r) => readyOf(r)?.reason === 'StorageNotForDisks');
  assert.is(readyOf(refused).status, 'False');
  assert.match(readyOf(refused).message, new RegExp('^storage_pool: storage local on node pve\\d does not hold VM disks ' +
    '\\(its content: backup, iso, snippets, vztmpl; storages for VM disks: local-lvm, templates\\)$'));
  assert.is(await rowOf(created.body.metadata.uid), undefined);
  assert.ok((await eventsOf(created.body.metadata.uid)).some((e: any) => e.type === 'Warning' && e.reason === 'StorageNotForDisks'));
  await k.call('DELETE', volumesPath(k.namespace, 'isos'));
  await waitVolume('isos', 'gone', (r) => r.code === 404);
});

test('a growth over the disk quota is refused as QuotaExceeded over the row\'s status, and applied once it fits', async () => {
  const { uid, resource: { status: { proxmoxVolumeId: volid } } } = await aSettledVolume('capped-data', 'detached',
    { sizeGb: 15, attached: false });
  const quotas = k.platform.app.system.quotas;
  const limits = { pods: 1000, cpu_cores: 10_000, memory_mb: 100_000_000, bandwidth_gb: null, ipv4: null };
  await quotas.setOverride(k.platform.tenant.id, { ...limits, disk_gb: 100 }, { type: 'system', id: 'test' });
  let generation: number;
  try {
    generation = (await patchSpec('capped-data', { sizeGb: 200 })).body.metadata.generation;
    const refused = await waitVolume('capped-data', 'QuotaExceeded', (r) => readyOf(r)?.reason === 'QuotaExceeded');
    assert.equal([refused.status.phase, refused.status.proxmoxVolumeId, refused.status.observedGeneration],
      ['detached', volid, generation - 1]);
    assert.is((await rowOf(uid))!.size_gb, 15, 'the row keeps its size');
  } finally {
    await quotas.setOverride(k.platform.tenant.id, { ...limits, disk_gb: 1_000_000 }, { type: 'system', id: 'test' });
  }
  await waitVolume('capped-data', 'grown once it fits', settled('detached', generation));
  assert.is((await rowOf(uid))!.size_gb, 200);
});

test('a volume applied with attached: false is created detached: an unused disk of the VM', async () => {
  const created = await k.call('POST', volumesPath(k.namespace), cloudPodVolume('web-1-cold', { sizeGb: 2, attached: false }));
  const cold = await waitVolume('web-1-cold', 'detached', settled('detached', 1));
  const row = (await rowOf(created.body.metadata.uid))!;
  assert.equal([row.attached, row.generation], [false, 1], 'ordered detached in one transaction');
  const keys = keysHolding(web.vmid, cold.status.proxmoxVolumeId);
  assert.is(keys.length, 1);
  assert.match(keys[0]!, /^unused\d+$/);
  await k.call('DELETE', volumesPath(k.namespace, 'web-1-cold'));
  await waitVolume('web-1-cold', 'gone', (r) => r.code === 404);
  assert.is(k.platform.sim.sim.cluster.volumes.has(cold.status.proxmoxVolumeId), false);
});

test('a volume in an unlabelled namespace only reports TenantUnknown', async () => {
  await k.call('POST', '/api/v1/namespaces', { metadata: { name: 'stray' } });
  const created = await k.call('POST', volumesPath('stray'), cloudPodVolume('lost'));
  const resource = await waitVolume('lost', 'TenantUnknown', (r) => readyOf(r)?.reason === 'TenantUnknown', 'stray');
  assert.is(readyOf(resource).status, 'False');
  assert.is(await rowOf(created.body.metadata.uid), undefined, 'nothing written');
});

test('deleting its CloudPod takes the volume along (PodNotFound); applying the CloudPod again orders it again', async () => {
  const { resource: before } = await aSettledVolume('db-2-data', 'attached', { podName: 'db-2', sizeGb: 4 });
  assert.equal(keysHolding(carrier.vmid, before.status.proxmoxVolumeId), ['scsi1']);
  const oldVolid = before.status.proxmoxVolumeId;
  await k.call('DELETE', podsPath(k.namespace, 'db-2'));
  await waitFor('CloudPod db-2 gone', () => k.call('GET', podsPath(k.namespace, 'db-2')), (r) => r.status === 404,
    { timeoutMs: 30_000, intervalMs: 100 });
  const orphan = await waitVolume('db-2-data', 'PodNotFound', (r) => readyOf(r)?.reason === 'PodNotFound');
  assert.is(orphan.status.proxmoxVolumeId, undefined, 'nothing of the old disk is reported');
  assert.is(k.platform.sim.sim.cluster.volumes.has(oldVolid), false, 'the disk went with the pod');
  const db = await applyPod('db-2');
  const again = await waitVolume('db-2-data', 'attached again', (r) => settled('attached', 1)(r) && r.status.volumeId !== before.status.volumeId);
  assert.equal(keysHolding(db.vmid, again.status.proxmoxVolumeId), ['scsi1']);
});

test('delete: the disk is destroyed first, then the finalizer goes, then the resource', async () => {
  const { uid, resource: { status: { proxmoxVolumeId: volid } } } = await aSettledVolume('doomed-data', 'attached');
  const deleting = await k.call('DELETE', volumesPath(k.namespace, 'doomed-data'));
  assert.ok(deleting.body.metadata.deletionTimestamp);
  await waitVolume('doomed-data', 'gone', (r) => r.code === 404);
  assert.is(k.platform.sim.sim.cluster.volumes.has(volid), false, 'the disk is destroyed');
  assert.equal(keysHolding(web.vmid, volid), []);
  assert.is(await rowOf(uid), undefined, 'the row is gone');
  const reasons = (await eventsOf(uid)).map((e: any) => e.reason);
  assert.ok(reasons.indexOf('Deleting') >= 0 && reasons.indexOf('Deleting') < reasons.indexOf('Deleted'), reasons.join(','));
  assert.ok(k.platform.sim.sim.cluster.vms.get(web.vmid)?.running, 'the VM runs on');
});

test.run();
