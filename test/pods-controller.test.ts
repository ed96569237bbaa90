import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ownerTag } from '../src/proxmox/vm-ownership.ts';
import { assertConformanceAfterEach } from './support/proxmox-sim.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { waitFor } from './support/wait.ts';

/** A pod's life through the REST API, converged on the simulated cluster over the SSH transport. */
const test = suite('pod controller');
let platform: Platform;
/** Active pods ordered together before the tests, one for each test that changes an active pod: id and VMID. */
let pods: Record<'grown' | 'rebooted' | 'switched' | 'doomed', { id: string; vmid: number }>;

test.before(async () => {
  platform = await startPlatform({ transport: 'ssh' });
  const names = ['grown', 'rebooted', 'switched', 'doomed'] as const;
  const active = await Promise.all(names.map(async (name) => {
    const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token, body: order({ name }) });
    assert.is(created.status, 202, JSON.stringify(created.body));
    const pod = await waitForPod(platform, created.body.pod.id, `${name} active`, (p) => p?.status.phase === 'active');
    return { id: pod.id, vmid: pod.status.vmid };
  }));
  pods = Object.fromEntries(names.map((name, i) => [name, active[i]])) as typeof pods;
});
test.after(async () => { await platform?.stop(); });
assertConformanceAfterEach(test, () => platform?.sim);

const sshKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEexampleEXAMPLEexampleEXAMPLEexample ops@acme';
const order = (fields: Record<string, unknown> = {}) => ({ name: 'web-1', template: 'ubuntu-24.04', cpu_cores: 2,
  memory_mb: 2048, disk_gb: 10, ssh_keys: [sshKey], ...fields });
const vmOf = (vmid: number) => platform.sim.sim.cluster.vms.get(vmid);
const ready = (pod: any) => pod?.status.conditions.find((c: any) => c.type === 'Ready');

/** Grows a running pod's disk and cores: converged, with the cores pending until a reboot. */
async function grow(podId: string): Promise<any> {
  const patched = await platform.app.request('PATCH', `/api/cloud-pods/${podId}`, { token: platform.token,
    body: { disk_gb: 20, cpu_cores: 3 } });
  assert.is(patched.status, 202);
  return waitForPod(platform, podId, 'converged on generation 2',
    (p) => p.status.observed_generation === p.status.generation && ready(p)?.status === 'True');
}

test('an order becomes an active pod: cloned, configured, started, with its IP read back', async () => {
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token, body: order() });
  assert.is(created.status, 202, JSON.stringify(created.body));
  const podId = created.body.pod.id;
  const pod = await waitForPod(platform, podId, 'active', (p) => p?.status.phase === 'active' && ready(p)?.status === 'True');
  const vmid = pod.status.vmid;
  assert.ok(vmid >= 1000 && vmid <= 1999, 'the VMID comes from the configured range');
  assert.ok(platform.sim.sim.nodes.includes(pod.status.node));
  assert.equal(pod.status.observed_generation, pod.status.generation);
  const vm = vmOf(vmid)!;
  assert.ok(vm, 'the VM exists');
  assert.is(vm.running, true);
  assert.is(vm.config.cores, '2');
  assert.match(String(vm.config.memory), /2048/);
  assert.ok(String(vm.config.tags).split(/[;,]/).includes(ownerTag(podId)), 'the VM carries the owner tag');
  assert.match(String(vm.config.description), new RegExp(`pod=${podId}`));
  assert.match(String(vm.config.ipconfig0), /^ip=192\.0\.2\.\d+\/24,gw=192\.0\.2\.1$/);
  assert.match(decodeURIComponent(String(vm.config.sshkeys)), /ops@acme/);
  assert.match(String(vm.config.scsi0), /size=10G/, 'the disk was grown to the order');
  assert.ok(pod.status.ip_addresses.length > 0, 'IPs read back from the guest agent');
  assert.ok(pod.status.ip_addresses.includes(String(vm.config.ipconfig0).split(/[=/]/)[1]));
  const audit = await platform.database.db.selectFrom('cloud_pod_audit').select('action').where('pod_id', '=', podId)
    .orderBy('id').execute();
  assert.equal(audit.map((a) => a.action).filter((a) => a !== 'pod.provisioning'), ['pod.created', 'pod.active']);
  const events = await platform.database.db.selectFrom('jobs').select('payload').where('type', '=', 'lifecycle.event')
    .execute();
  assert.ok(events.some((e) => (e.payload as any).event === 'pod.post_create' && (e.payload as any).pod_id === podId));
});

test('growing resources: the disk is resized and new CPU count reaches the VM', async () => {
  const { id: podId, vmid } = pods.grown;
  const pod = await grow(podId);
  assert.is(pod.status.phase, 'active');
  assert.match(String(vmOf(vmid)!.config.scsi0), /size=20G/);
  const cores = vmOf(vmid)!.pending.cores ?? vmOf(vmid)!.config.cores;
  assert.is(String(cores), '3');
  const needsReboot = pod.status.conditions.find((c: any) => c.type === 'NeedsReboot');
  assert.equal([needsReboot?.status, needsReboot?.reason], ['True', 'PendingChanges'], 'a running VM applies cores at reboot');
});

test('a reboot applies pending changes and clears NeedsReboot', async () => {
  const { id: podId, vmid } = pods.rebooted;
  await grow(podId);
  const response = await platform.app.request('POST', `/api/cloud-pods/${podId}/actions/reboot`, { token: platform.token });
  assert.is(response.status, 202);
  const pod = await waitForPod(platform, podId, 'rebooted', (p) => p.status.phase === 'active'
    && p.status.conditions.find((c: any) => c.type === 'NeedsReboot')?.status === 'False'
    && p.status.observed_generation === p.status.generation && ready(p)?.status === 'True');
  assert.is(String(vmOf(vmid)!.config.cores), '3');
  assert.equal(vmOf(vmid)!.pending, {}, 'nothing left pending');
  assert.is(vmOf(vmid)!.running, true);
  assert.ok(pod.reboot_requested_at);
});

test('stop and start through actions', async () => {
  const { id: podId, vmid } = pods.switched;
  await platform.app.request('POST', `/api/cloud-pods/${podId}/actions/stop`, { token: platform.token });
  await waitForPod(platform, podId, 'stopped', (p) => p.status.phase === 'stopped' && ready(p)?.status === 'True');
  assert.is(vmOf(vmid)!.running, false);
  await platform.app.request('POST', `/api/cloud-pods/${podId}/actions/start`, { token: platform.token });
  await waitForPod(platform, podId, 'active again', (p) => p.status.phase === 'active' && ready(p)?.status === 'True');
  assert.is(vmOf(vmid)!.running, true);
});

test('an app stack gets its user-data as a snippet, referenced by cicustom', async () => {
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token, body: order({
    name: 'blog', template: 'wordpress', hostname: 'blog.acme.test', zone: 'acme.test',
    app_options: { admin_email: 'ops@acme.test', site_title: 'Acme Blog' } }) });
  assert.is(created.status, 202, JSON.stringify(created.body));
  const pod = await waitForPod(platform, created.body.pod.id, 'active', (p) => p?.status.phase === 'active');
  const cicustom = String(vmOf(pod.status.vmid)!.config.cicustom);
  assert.match(cicustom, new RegExp(`^user=local:snippets/cloudpods-${pod.id}\\.yaml$`));
  const file = path.join(platform.sim.sim.snippetsDir, `cloudpods-${pod.id}.yaml`);
  assert.ok(existsSync(file), 'the snippet was uploaded over SFTP');
  const userData = readFileSync(file, 'utf8');
  assert.match(userData, /^#cloud-config/);
  assert.match(userData, /Acme Blog/);
});

test('a VMID held by a foreign VM is skipped and the foreign VM is left alone', async () => {
  const { sim } = platform.sim;
  const taken = new Set([...sim.cluster.vms.keys()]);
  let foreign = 1000;
  while (taken.has(foreign)) foreign++;
  // Another tool's VM appears in our range: a plain clone of the template, without CloudPods' marks.
  const client = platform.sim.client('https');
  const upid = await client.clone('pve1', 9000, { newid: foreign, name: 'someone-elses', full: true, storage: 'local-lvm' });
  await client.waitForTask(upid);
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token, body: order({ name: 'web-2' }) });
  const pod = await waitForPod(platform, created.body.pod.id, 'active', (p) => p?.status.phase === 'active');
  assert.is.not(pod.status.vmid, foreign);
  assert.is(vmOf(foreign)!.config.name, 'someone-elses', 'the foreign VM is untouched');
});

test('a broken leftover VM of the pod (its disk gone) is destroyed and cloned again', async () => {
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token, body: order({ name: 'fragile' }) });
  const first = await waitForPod(platform, created.body.pod.id, 'active', (p) => p?.status.phase === 'active');
  const vm = vmOf(first.status.vmid)!;
  vm.running = false;
  delete vm.config.scsi0;
  delete vm.config.boot;
  await platform.app.request('PATCH', `/api/cloud-pods/${first.id}`, { token: platform.token, body: { cpu_cores: 3 } });
  const again = await waitForPod(platform, first.id, 'repaired', (p) => p.status.phase === 'active'
    && p.status.observed_generation === p.status.generation && ready(p)?.status === 'True');
  assert.match(String(vmOf(again.status.vmid)!.config.scsi0), /size=10G/, 'a fresh clone with its disk');
  const ours = [...platform.sim.sim.cluster.vms.values()].filter((v) => String(v.config.description ?? '').includes(first.id));
  assert.is(ours.length, 1, 'exactly one VM for the pod');
});

test('deleting a pod stops and destroys its VM and its volumes, frees its address and removes the row', async () => {
  const { id: podId, vmid } = pods.doomed;
  const volume = await platform.app.request('POST', `/api/cloud-pods/${podId}/volumes`, { token: platform.token,
    body: { name: 'data', size_gb: 5 } });
  assert.is(volume.status, 202, JSON.stringify(volume.body));
  const attached = await waitFor('the volume to be attached', async () => (await platform.app.request('GET',
    `/api/cloud-pods/${podId}/volumes/${volume.body.volume.id}`, { token: platform.token })).body.volume,
  (v) => v.status.phase === 'attached' && Boolean(v.status.proxmox_volume_id));
  const volid: string = attached.status.proxmox_volume_id;
  assert.ok(platform.sim.sim.cluster.volumes.has(volid));
  const address = String(vmOf(vmid)!.config.ipconfig0).split(/[=/]/)[1]!;
  const deleted = await platform.app.request('DELETE', `/api/cloud-pods/${podId}`, { token: platform.token });
  assert.is(deleted.status, 202);
  await waitForPod(platform, podId, 'gone', (p) => p === null);
  assert.is(vmOf(vmid), undefined, 'no VM is left');
  const allocations = await platform.database.db.selectFrom('cloud_ip_allocations').select('address')
    .where('address', '=', address).execute();
  assert.equal(allocations, [], 'the address is free again');
  const audit = await platform.database.db.selectFrom('cloud_pod_audit').select('action').where('pod_id', '=', podId)
    .orderBy('id').execute();
  assert.ok(audit.map((a) => a.action).includes('pod.deleted'));
  const volumes = [...platform.sim.sim.cluster.volumes.keys()].filter((v) => v.includes(`vm-${vmid}-`));
  assert.equal(volumes, [], 'no disk is left behind');
  assert.not.ok(platform.sim.sim.cluster.volumes.has(volid), 'the volume went with its pod');
  const rows = await platform.database.db.selectFrom('cloud_pod_volumes').select('id').where('pod_id', '=', podId).execute();
  assert.equal(rows, []);
});

test.run();
