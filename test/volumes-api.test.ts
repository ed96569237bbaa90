import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { volumeSerial } from '../controllers/volume/disks.ts';
import { markPodVolumesDeleting, podVolumesGone } from '../src/volumes/pod-volumes.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { anActivePod, anotherTenant, startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { assertConformanceAfterEach } from './support/proxmox-sim.ts';
import { waitFor } from './support/wait.ts';

/** Volumes through the REST API, converged on the simulated cluster over SSH, every Proxmox request schema-checked. */
const test = suite('volumes API and controller');
let platform: Platform;
/**
 * Active pods, ordered together before the tests so that they cost one round of clones: tests that touch only
 * volumes of their own share `podId`; a test about all of a pod's volumes, its quota or its VM has a pod to itself.
 */
let podId: string;
let vmid: number;
let own: Record<'created' | 'listed' | 'emptied' | 'vanishing' | 'quota', any>;
let quotaTenant: Awaited<ReturnType<typeof anotherTenant>>;

const order = (name: string) => ({ name, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 });
const vmOf = (id = vmid) => platform.sim.sim.cluster.vms.get(id)!;
const base = (pod = podId) => `/api/cloud-pods/${pod}/volumes`;
const api = (method: string, path: string, body?: unknown, token = platform.token) =>
  platform.app.request(method, path, { token, ...(body === undefined ? {} : { body }) });
const readyOf = (volume: any) => volume?.status.conditions.find((c: any) => c.type === 'Ready');

async function waitForVolume(id: string, what: string, accept: (volume: any) => boolean, path = base(),
  token = platform.token): Promise<any> {
  return waitFor(`volume ${what}`, async () => {
    const response = await api('GET', `${path}/${id}`, undefined, token);
    return response.status === 404 ? null : response.body.volume;
  }, accept, { timeoutMs: 20_000, intervalMs: 50 });
}

const converged = (phase: string) => (v: any) => v?.status.phase === phase && readyOf(v)?.status === 'True'
  && v.status.observed_generation === v.status.generation;

/** Orders a volume and waits until it is attached. */
async function anAttachedVolume(name: string, size_gb: number, path = base(), token = platform.token): Promise<any> {
  const created = await api('POST', path, { name, size_gb }, token);
  assert.is(created.status, 202, JSON.stringify(created.body));
  return waitForVolume(created.body.volume.id, `${name} attached`, converged('attached'), path, token);
}

/** Config keys of the VM that hold this volume. */
const keysHolding = (volid: string) => Object.entries(vmOf().config)
  .filter(([key, value]) => /^(scsi|unused)\d+$/.test(key) && value.split(',')[0] === volid).map(([key]) => key);

/** The audit of one volume, oldest first. */
const auditOf = async (volumeId: string) => (await platform.database.db.selectFrom('cloud_pod_audit').select(['action', 'details'])
  .where('category', '=', 'volume').orderBy('id').execute())
  .filter((a) => (a.details as { volume_id?: string }).volume_id === volumeId).map((a) => a.action);

test.before(async () => {
  platform = await startPlatform({ transport: 'ssh' });
  quotaTenant = await anotherTenant(platform);
  const [shared, created, listed, emptied, vanishing, quota] = await Promise.all([
    ...['data-host', 'first-disk', 'listed', 'emptied', 'vanishing'].map((name) => anActivePod(platform, name)),
    anActivePod(platform, 'quota-host', quotaTenant.token)]);
  [podId, vmid] = [shared.id, shared.status.vmid];
  own = { created, listed, emptied, vanishing, quota };
});
test.after(async () => { await platform?.stop(); });
assertConformanceAfterEach(test, () => platform?.sim);

test('a volume is created on the pod\'s storage in a free SCSI slot, with its serial, and audited', async () => {
  const pod = own.created;
  const vm = vmOf(pod.status.vmid);
  const created = await api('POST', base(pod.id), { name: 'data', size_gb: 10 });
  assert.is(created.status, 202, JSON.stringify(created.body));
  assert.is(created.body.volume.status.phase, 'creating');
  assert.is(created.body.volume.spec.storage_pool, 'local-lvm', 'the template\'s storage by default');
  const volumeId = created.body.volume.id;
  const volume = await waitForVolume(volumeId, 'attached', converged('attached'), base(pod.id));
  const volid = volume.status.proxmox_volume_id;
  assert.match(volid, new RegExp(`^local-lvm:vm-${pod.status.vmid}-disk-\\d+$`));
  assert.is(volume.status.slot, 'scsi1');
  assert.match(vm.config.scsi1!, new RegExp(`^${volid},serial=${volumeSerial(volumeId)},size=10G$`));
  assert.is(platform.sim.sim.cluster.volumes.get(volid)?.sizeBytes, 10 * 1024 ** 3);
  const audit = await platform.database.db.selectFrom('cloud_pod_audit').select(['action', 'category'])
    .where('pod_id', '=', pod.id).where('category', '=', 'volume').orderBy('id').execute();
  assert.equal(audit.map((a) => a.action), ['volume.created', 'volume.attached']);
});

test('list and show; another tenant sees 404; writes need a manage permission', async () => {
  const pod = own.listed;
  const path = base(pod.id);
  const volumeId = (await anAttachedVolume('data', 10, path)).id;
  const list = await api('GET', path);
  assert.is(list.status, 200);
  assert.equal(list.body.volumes.map((v: any) => v.id), [volumeId]);
  assert.is(list.body.meta.pagination.total_entries, 1);
  const filtered = await api('GET', `${path}?status=detached`);
  assert.equal(filtered.body.volumes, []);

  const other = await aTenant(platform.database.db, 'other');
  const stranger = (await aToken(platform.database.db, { tenant: other,
    permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  assert.is((await api('GET', path, undefined, stranger)).status, 404);
  assert.is((await api('GET', `${path}/${volumeId}`, undefined, stranger)).status, 404);
  assert.is((await api('POST', `${path}/${volumeId}/detach`, undefined, stranger)).status, 404);
  assert.is((await api('DELETE', `${path}/${volumeId}`, undefined, stranger)).status, 404);

  const viewer = (await aToken(platform.database.db, { tenant: platform.tenant, permissions: ['cloudpods.view'] })).token;
  const refused = await api('POST', path, { name: 'nope', size_gb: 1 }, viewer);
  assert.is(refused.status, 403);
  assert.is(refused.body.error.code, 'forbidden');
  const volumesOnly = (await aToken(platform.database.db, { tenant: platform.tenant,
    permissions: ['cloudpods.view', 'cloudpods.volumes.manage'] })).token;
  const bad = await api('POST', path, { name: 'Bad Name', size_gb: 0, extra: 1 }, volumesOnly);
  assert.is(bad.status, 400, 'the dedicated permission is enough to reach validation');
  assert.equal(bad.body.error.details.fields.map((f: any) => f.name).sort(), ['extra', 'name', 'size_gb']);
  assert.is((await api('GET', `${path}/00000000-0000-4000-8000-000000000000`)).status, 404);
});

test('resize grows the disk to the absolute size; shrinking answers 422', async () => {
  const { id: volumeId, status: { proxmox_volume_id: volid } } = await anAttachedVolume('growing', 10);
  const grown = await api('POST', `${base()}/${volumeId}/resize`, { size_gb: 15 });
  assert.is(grown.status, 202, JSON.stringify(grown.body));
  const volume = await waitForVolume(volumeId, 'grown', (v) => converged('attached')(v) && v.status.observed_generation === 2);
  assert.match(vmOf().config[volume.status.slot]!, /size=15G/);
  assert.is(platform.sim.sim.cluster.volumes.get(volid)?.sizeBytes, 15 * 1024 ** 3);
  const shrink = await api('POST', `${base()}/${volumeId}/resize`, { size_gb: 5 });
  assert.is(shrink.status, 422);
  assert.is(shrink.body.error.code, 'validation_error');
  assert.equal(shrink.body.error.details.fields[0].name, 'size_gb');
  const same = await api('POST', `${base()}/${volumeId}/resize`, { size_gb: 15 });
  assert.is(same.status, 202);
  assert.is(same.body.volume.status.generation, 2, 'the same size changes nothing');
});

test('the disk quota counts volumes: an order or growth beyond it is refused and writes nothing', async () => {
  // A tenant of its own, so the figures are this test's: one pod of 10 GiB and one volume of 15.
  const { tenant, token } = quotaTenant;
  const pod = own.quota;
  const volumeId = (await anAttachedVolume('data', 15, base(pod.id), token)).id;
  const quota = await api('GET', '/api/cloud-pods/quota', undefined, token);
  const used = quota.body.quota?.disk_gb?.used ?? quota.body.disk_gb?.used;
  assert.is(used, 10 + 15, 'the pod disk and the volume count');
  await platform.app.system.quotas.setOverride(tenant.id, { pods: 10, cpu_cores: 100, memory_mb: 100_000,
    disk_gb: 30, bandwidth_gb: null, ipv4: null }, { type: 'system', id: 'test' });
  const tooBig = await api('POST', base(pod.id), { name: 'big', size_gb: 6 }, token);
  assert.is(tooBig.status, 422);
  assert.is(tooBig.body.error.code, 'resource_limit_exceeded');
  const growth = await api('POST', `${base(pod.id)}/${volumeId}/resize`, { size_gb: 21 }, token);
  assert.is(growth.status, 422);
  assert.is(growth.body.error.code, 'resource_limit_exceeded');
  const rows = await platform.database.db.selectFrom('cloud_pod_volumes').select(['name', 'size_gb'])
    .where('pod_id', '=', pod.id).execute();
  assert.equal(rows, [{ name: 'data', size_gb: 15 }]);
});

test('detach, attach, detach, attach: the same volume every time, as an unused disk in between', async () => {
  const { id: volumeId, status: { proxmox_volume_id: volid } } = await anAttachedVolume('roving', 15);
  for (let round = 0; round < 2; round++) {
    assert.is((await api('POST', `${base()}/${volumeId}/detach`)).status, 202);
    const detached = await waitForVolume(volumeId, 'detached', converged('detached'));
    assert.is(detached.status.proxmox_volume_id, volid);
    assert.is(detached.status.slot, null);
    assert.equal(keysHolding(volid).filter((k) => k.startsWith('scsi')), [], 'no longer on a bus');
    assert.is(keysHolding(volid).filter((k) => k.startsWith('unused')).length, 1, 'kept as one unused disk');
    assert.ok(platform.sim.sim.cluster.volumes.has(volid), 'the data is kept');

    assert.is((await api('POST', `${base()}/${volumeId}/attach`)).status, 202);
    const attached = await waitForVolume(volumeId, 'attached again', converged('attached'));
    assert.is(attached.status.proxmox_volume_id, volid, 'the same volume');
    assert.match(vmOf().config[attached.status.slot]!, new RegExp(`^${volid},serial=${volumeSerial(volumeId)}`));
    assert.match(vmOf().config[attached.status.slot]!, /size=15G/);
  }
  const actions = await auditOf(volumeId);
  assert.is(actions.filter((a) => a === 'volume.detach_requested').length, 2);
  assert.is(actions.filter((a) => a === 'volume.detached').length, 2);
  assert.is(actions.filter((a) => a === 'volume.attach_requested').length, 2);
});

test('a full storage is an error condition with the numbers; deleting the order cleans up', async () => {
  const created = await api('POST', base(), { name: 'huge', size_gb: 4000 });
  assert.is(created.status, 202);
  const id = created.body.volume.id;
  const volume = await waitForVolume(id, 'in error', (v) => v?.status.phase === 'error');
  const ready = readyOf(volume);
  assert.is(ready.reason, 'StorageFull');
  assert.match(ready.message, /local-lvm on pve\d is full: 4000 GiB needed, [\d.]+ GiB available/);
  assert.is(volume.status.proxmox_volume_id, null, 'nothing was allocated');
  assert.is((await api('DELETE', `${base()}/${id}`)).status, 202);
  await waitForVolume(id, 'gone', (v) => v === null);
});

test('a storage that stops holding VM disks after the order stops it with a reason', async () => {
  // The order is checked against the cluster (a storage holding no disks is refused then); this is the storage
  // reconfigured behind CloudPods' back afterwards, as `pvesm set templates --content iso` would.
  const faults = platform.sim.sim.faults;
  faults.setConfigLock(vmid, 'backup'); // the controller waits on the VM until the storage has changed
  let id: string;
  try {
    const created = await api('POST', base(), { name: 'shared', size_gb: 1, storage_pool: 'templates' });
    assert.is(created.status, 202, JSON.stringify(created.body));
    id = created.body.volume.id;
    await waitForVolume(id, 'waiting on the locked VM', (v) => readyOf(v)?.reason === 'Locked');
    faults.setStorageContent('templates', ['iso']);
    faults.setConfigLock(vmid, undefined);
    const volume = await waitForVolume(id, 'in error', (v) => v?.status.phase === 'error');
    assert.is(readyOf(volume).reason, 'StorageUnavailable');
    assert.is(readyOf(volume).message, 'storage templates does not hold VM disks');
    assert.is(volume.status.proxmox_volume_id, null, 'nothing was allocated');
  } finally {
    faults.setConfigLock(vmid, undefined);
    faults.clear();
  }
  assert.is((await api('DELETE', `${base()}/${id}`)).status, 202);
  await waitForVolume(id, 'gone', (v) => v === null);
});

test('platform tokens may name the pod\'s tenant when ordering a volume; any other tenant is 400 naming tenant', async () => {
  const db = platform.database.db;
  const admin = (await aToken(db, { admin: true, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  const elsewhere = await aTenant(db, 'elsewhere');
  const before = (await api('GET', base())).body.volumes.length;
  for (const tenant of [elsewhere.slug, 'no-such-tenant']) {
    const refused = await api('POST', base(), { tenant, name: 'misfiled', size_gb: 1 }, admin);
    assert.is(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.details.fields.map((f: any) => f.name), ['tenant']);
  }
  assert.is((await api('GET', base())).body.volumes.length, before, 'nothing written');
  const created = await api('POST', base(), { tenant: platform.tenant.slug, name: 'by-admin', size_gb: 1 }, admin);
  assert.is(created.status, 202, JSON.stringify(created.body));
  await waitForVolume(created.body.volume.id, 'attached', converged('attached'));
  assert.is((await api('DELETE', `${base()}/${created.body.volume.id}`, undefined, admin)).status, 202);
  await waitForVolume(created.body.volume.id, 'gone', (v) => v === null);
});

test('deleting one volume destroys its disk and never touches another', async () => {
  const { id: volumeId, status: { proxmox_volume_id: volid } } = await anAttachedVolume('doomed', 10);
  const other = await anAttachedVolume('logs', 3);
  const otherVolid = other.status.proxmox_volume_id;
  const before = { ...vmOf().config };
  assert.is((await api('DELETE', `${base()}/${volumeId}`)).status, 202);
  await waitForVolume(volumeId, 'gone', (v) => v === null);
  assert.not.ok(platform.sim.sim.cluster.volumes.has(volid), 'its disk is destroyed');
  assert.equal(keysHolding(volid), [], 'no reference is left');
  assert.ok(platform.sim.sim.cluster.volumes.has(otherVolid), 'the other volume is kept');
  assert.is(vmOf().config[other.status.slot], before[other.status.slot], 'the other disk is unchanged');
  assert.is(vmOf().config.scsi0, before.scsi0, 'the boot disk is unchanged');
  assert.ok((await auditOf(volumeId)).includes('volume.deleted'));
});

test('a pod still provisioning accepts a volume, which is applied once the pod is active', async () => {
  const created = await api('POST', '/api/cloud-pods', order('late-disk'));
  const newPod = created.body.pod.id;
  const path = `/api/cloud-pods/${newPod}/volumes`;
  const early = await api('POST', path, { name: 'early', size_gb: 2 });
  assert.is(early.status, 202, JSON.stringify(early.body));
  const volume = await waitForVolume(early.body.volume.id, 'attached', converged('attached'), path);
  const pod = await waitForPod(platform, newPod, 'active', (p) => p?.status.phase === 'active');
  assert.match(platform.sim.sim.cluster.vms.get(pod.status.vmid)!.config[volume.status.slot]!,
    new RegExp(`^${volume.status.proxmox_volume_id},`));
  const waited = await platform.database.db.selectFrom('cloud_pod_audit').select('details')
    .where('pod_id', '=', newPod).where('action', '=', 'volume.attached').executeTakeFirstOrThrow();
  assert.is((waited.details as any).from, 'creating');
});

test('a pod being deleted takes its volumes: rows go to deleting, disks are destroyed, rows removed', async () => {
  const pod = own.emptied;
  const podId = pod.id;
  for (const name of ['logs', 'cache']) await anAttachedVolume(name, 1, base(podId));
  const volumes = await api('GET', base(podId));
  const ids: string[] = volumes.body.volumes.map((v: any) => v.id);
  const volids: string[] = volumes.body.volumes.map((v: any) => v.status.proxmox_volume_id);
  assert.ok(ids.length > 0);
  const { db } = platform.database;
  const marked = await db.transaction().execute((trx) => markPodVolumesDeleting(trx, platform.app.system.jobs, podId));
  assert.equal(marked.sort(), [...ids].sort());
  assert.is(await podVolumesGone(db, podId), false);
  await waitFor('volumes of the pod gone', () => podVolumesGone(db, podId), (gone) => gone);
  for (const id of volids) assert.not.ok(platform.sim.sim.cluster.volumes.has(id), `${id} destroyed`);
  assert.ok(vmOf(pod.status.vmid).config.scsi0, 'the pod\'s own disk is not a volume and stays');
  assert.is((await api('POST', base(podId), { name: 'after', size_gb: 1 })).status, 202, 'the pod itself is not deleting');
});

test('volumes of a pod whose VM is already gone: the rows just go', async () => {
  const pod = own.vanishing;
  const [podId, vmid] = [pod.id, pod.status.vmid];
  const volume = await anAttachedVolume('after', 1, base(podId));
  const client = platform.sim.client('https');
  const node = vmOf(vmid).node;
  await client.waitForTask(await client.stop(node, vmid));
  await client.waitForTask(await client.destroy(node, vmid));
  assert.not.ok(platform.sim.sim.cluster.volumes.has(volume.status.proxmox_volume_id), 'the destroy took the disk along');
  const { db } = platform.database;
  await db.transaction().execute((trx) => markPodVolumesDeleting(trx, platform.app.system.jobs, podId));
  await waitFor('volumes of the pod gone', () => podVolumesGone(db, podId), (gone) => gone);
  const deleted = await db.selectFrom('cloud_pod_audit').select('details').where('action', '=', 'volume.deleted')
    .where('pod_id', '=', podId).execute();
  assert.ok(deleted.some((d) => (d.details as any).volume_id === volume.id));
});

test.run();
