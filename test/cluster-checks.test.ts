import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { storageProblem } from '../src/proxmox/cluster-checks.ts';
import type { ClusterResource } from '../src/proxmox/types.ts';
import { aToken } from './support/fixtures.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { assertConformanceAfterEach } from './support/proxmox-sim.ts';
import { waitFor } from './support/wait.ts';

/**
 * Orders naming what the Proxmox cluster does not have are refused at once (422 naming the field), from the
 * controller's cached view of the simulated cluster; while Proxmox does not answer they are accepted unchecked.
 */
const test = suite('orders checked against the cluster');
let platform: Platform;
let admin: string;

const api = (method: string, path: string, body?: unknown, token = platform.token) =>
  platform.app.request(method, path, { token, ...(body === undefined ? {} : { body }) });
const order = (name: string, fields: Record<string, unknown> = {}) => ({ name, template: 'ubuntu-24.04', cpu_cores: 1,
  memory_mb: 1024, disk_gb: 10, ...fields });
const used = async () => (await api('GET', '/api/cloud-pods/quota')).body;
const podNames = async () => (await platform.database.db.selectFrom('cloud_pods').select('name').execute()).map((p) => p.name);
const fieldsOf = (body: any) => body.error.details.fields.map((f: any) => f.name);
const template = (code: string, vmid: number) => ({ code, name: code, type: 'os', proxmox_template_vmid: vmid,
  storage_pool: 'local-lvm', network_bridge: 'vmbr0' });

test.before(async () => {
  platform = await startPlatform({ transport: 'https' });
  admin = (await aToken(platform.database.db, { admin: true, permissions: ['plans.manage'] })).token;
});
test.after(async () => { await platform?.stop(); });
assertConformanceAfterEach(test, () => platform?.sim);

let podId: string;
let podVmid: number;

test('a pod on a node the cluster does not have is 422 naming node, writes nothing and holds no quota', async () => {
  const before = await used();
  const refused = await api('POST', '/api/cloud-pods', order('nowhere', { node: 'no-such-node' }));
  assert.is(refused.status, 422, JSON.stringify(refused.body));
  assert.is(refused.body.error.code, 'validation_error');
  assert.equal(fieldsOf(refused.body), ['node']);
  assert.is(refused.body.error.details.reason, 'NodeNotFound');
  assert.match(refused.body.error.message, 'node: no node no-such-node in the Proxmox cluster (it has pve1, pve2, pve3)');
  assert.equal(await podNames(), []);
  assert.equal(await used(), before, 'no quota held');
  const audit = await platform.database.db.selectFrom('cloud_pod_audit').select('action')
    .where('action', '=', 'pod.created').execute();
  assert.equal(audit, []);

  const accepted = await api('POST', '/api/cloud-pods', order('on-pve2', { node: 'pve2' }));
  assert.is(accepted.status, 202, JSON.stringify(accepted.body));
  podId = accepted.body.pod.id;
  const active = await waitForPod(platform, podId, 'active on pve2', (p) => p?.status.phase === 'active');
  assert.is(active.status.node, 'pve2');
  podVmid = active.status.vmid;
});

test('a volume on a storage the cluster does not have is 422 naming storage_pool and writes nothing', async () => {
  const before = await used();
  const refused = await api('POST', `/api/cloud-pods/${podId}/volumes`, { name: 'data', size_gb: 5, storage_pool: 'no-such-pool' });
  assert.is(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(fieldsOf(refused.body), ['storage_pool']);
  assert.is(refused.body.error.details.reason, 'StorageNotFound');
  assert.match(refused.body.error.message, 'no storage no-such-pool on node pve2 (it has local, local-lvm, templates)');
  assert.equal((await api('GET', `/api/cloud-pods/${podId}/volumes`)).body.volumes, []);
  assert.equal(await used(), before, 'no quota held');
  const accepted = await api('POST', `/api/cloud-pods/${podId}/volumes`, { name: 'data', size_gb: 5, storage_pool: 'local-lvm' });
  assert.is(accepted.status, 202, JSON.stringify(accepted.body));
});

test('a storage is looked for on the pod\'s node once placed, on any node before', () => {
  const storage = (node: string, id: string): ClusterResource => ({ id: `storage/${node}/${id}`, type: 'storage', node, storage: id });
  const facts = { nodes: [], vms: new Map(), storages: [storage('pve1', 'local-lvm'), storage('pve2', 'fast')] };
  assert.is(storageProblem(facts, 'fast', null), undefined);
  assert.is(storageProblem(facts, 'fast', 'pve2'), undefined);
  assert.is(storageProblem(facts, 'fast', 'pve1'), 'no storage fast on node pve1 (it has local-lvm)');
  assert.is(storageProblem(facts, 'slow', null), 'no storage slow in the Proxmox cluster (it has fast, local-lvm)');
});

test('a template whose VMID is no VM, or no template, is 422 naming proxmox_template_vmid, on create and on change', async () => {
  const missing = await api('POST', '/api/cloud-pods/templates', template('ghost', 4242), admin);
  assert.is(missing.status, 422, JSON.stringify(missing.body));
  assert.equal(fieldsOf(missing.body), ['proxmox_template_vmid']);
  assert.is(missing.body.error.details.reason, 'TemplateVmNotFound');
  assert.match(missing.body.error.message, 'no VM 4242 in the Proxmox cluster');
  assert.is((await api('GET', '/api/cloud-pods/templates/ghost', undefined, admin)).status, 404, 'not stored');

  const notTemplate = await api('POST', '/api/cloud-pods/templates', template('a-pod', podVmid), admin);
  assert.is(notTemplate.status, 422, JSON.stringify(notTemplate.body));
  assert.is(notTemplate.body.error.details.reason, 'NotATemplate');
  assert.match(notTemplate.body.error.message, `VM ${podVmid} (on-pve2) on pve2 is not a template`);

  const created = await api('POST', '/api/cloud-pods/templates', template('debian-copy', 9000), admin);
  assert.is(created.status, 201, JSON.stringify(created.body));
  const changed = await api('PATCH', '/api/cloud-pods/templates/debian-copy', { proxmox_template_vmid: podVmid }, admin);
  assert.is(changed.status, 422, JSON.stringify(changed.body));
  assert.equal(fieldsOf(changed.body), ['proxmox_template_vmid']);
  const kept = await api('GET', '/api/cloud-pods/templates/debian-copy', undefined, admin);
  assert.is(kept.body.template.proxmox_template_vmid, 9000, 'unchanged');
  assert.is((await api('PATCH', '/api/cloud-pods/templates/debian-copy', { proxmox_template_vmid: 9001 }, admin)).status, 200);
  assert.is((await api('PATCH', '/api/cloud-pods/templates/debian-copy', { name: 'Debian copy' }, admin)).status, 200);
});

test('while Proxmox does not answer, orders are accepted unchecked within the wait; checked again once it answers', async () => {
  const faults = platform.sim.sim.faults;
  let attempt = 0;
  // Slow: once the cached view has expired, an order waits two seconds at most, then is accepted.
  faults.addLatency({ path: '^/cluster/resources', ms: 4_000 });
  let slow;
  try {
    let took = 0;
    slow = await waitFor('an order accepted unchecked while Proxmox is slow', async () => {
      const started = Date.now();
      const response = await api('POST', '/api/cloud-pods', order(`slow-${++attempt}`, { node: 'no-such-node' }));
      took = Date.now() - started;
      return response;
    }, (r) => r.status !== 422, { timeoutMs: 15_000 });
    assert.is(slow.status, 202, JSON.stringify(slow.body));
    assert.ok(took < 3_500, `answered in ${took} ms`);
  } finally {
    faults.clear();
  }
  // Down: the same.
  faults.addErrorRule({ path: '^/cluster/resources', rate: 1, status: 500, message: 'pveproxy down' });
  try {
    await waitFor('an order accepted while Proxmox fails', () => api('POST', '/api/cloud-pods',
      order(`down-${++attempt}`, { node: 'no-such-node' })), (r) => r.status === 202, { timeoutMs: 15_000 });
  } finally {
    faults.clear();
  }
  assert.ok(platform.app.logLines.some((line) => line.includes('Proxmox VE unreachable: orders are accepted')),
    'the outage is logged');
  const checked = await waitFor('orders checked again', () => api('POST', '/api/cloud-pods',
    order(`back-${++attempt}`, { node: 'no-such-node' })), (r) => r.status === 422, { timeoutMs: 15_000 });
  assert.is(checked.body.error.details.reason, 'NodeNotFound');
  assert.ok(platform.app.logLines.some((line) => line.includes('Proxmox VE answers again')));
  // What was accepted unchecked is the controller's to report.
  const unplaced = await waitForPod(platform, slow.body.pod.id, 'NodeUnavailable',
    (p) => p?.status.conditions.some((c: any) => c.type === 'Ready' && c.reason === 'NodeUnavailable'));
  assert.is(unplaced.status.node, null);
});

test.run();
