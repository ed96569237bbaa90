import { sql } from 'kysely';
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
/** A pod placed on pve2, for the tests that need one to name: volumes are checked on its node, its VM is no template. */
let placed: { id: string; vmid: number };

const api = (method: string, path: string, body?: unknown, token = platform.token) =>
  platform.app.request(method, path, { token, ...(body === undefined ? {} : { body }) });
const order = (name: string, fields: Record<string, unknown> = {}) => ({ name, template: 'ubuntu-24.04', cpu_cores: 1,
  memory_mb: 1024, disk_gb: 10, ...fields });
const used = async () => (await api('GET', '/api/cloud-pods/quota')).body;
const podNames = async () => (await platform.database.db.selectFrom('cloud_pods').select('name').orderBy('name').execute())
  .map((p) => p.name);
const audited = async (action: string) => (await platform.database.db.selectFrom('cloud_pod_audit').select('id')
  .where('action', '=', action).execute()).length;
const fieldsOf = (body: any) => body.error.details.fields.map((f: any) => f.name);
const template = (code: string, vmid: number) => ({ code, name: code, type: 'os', proxmox_template_vmid: vmid,
  storage_pool: 'local-lvm', network_bridge: 'vmbr0' });

test.before(async () => {
  platform = await startPlatform({ transport: 'https' });
  admin = (await aToken(platform.database.db, { admin: true, permissions: ['plans.manage'] })).token;
  const ordered = await api('POST', '/api/cloud-pods', order('on-pve2', { node: 'pve2' }));
  assert.is(ordered.status, 202, JSON.stringify(ordered.body));
  const pod = await waitForPod(platform, ordered.body.pod.id, 'active on pve2', (p) => p?.status.phase === 'active');
  placed = { id: pod.id, vmid: pod.status.vmid };
});
test.after(async () => { await platform?.stop(); });
assertConformanceAfterEach(test, () => platform?.sim);

test('a pod on a node the cluster does not have is 422 naming node, writes nothing and holds no quota', async () => {
  const [before, podsBefore, createdBefore] = [await used(), await podNames(), await audited('pod.created')];
  const refused = await api('POST', '/api/cloud-pods', order('nowhere', { node: 'no-such-node' }));
  assert.is(refused.status, 422, JSON.stringify(refused.body));
  assert.is(refused.body.error.code, 'validation_error');
  assert.equal(fieldsOf(refused.body), ['node']);
  assert.is(refused.body.error.details.reason, 'NodeNotFound');
  assert.match(refused.body.error.message, 'node: no node no-such-node in the Proxmox cluster (it has pve1, pve2, pve3)');
  assert.equal(await podNames(), podsBefore);
  assert.equal(await used(), before, 'no quota held');
  assert.is(await audited('pod.created'), createdBefore);

  const accepted = await api('POST', '/api/cloud-pods', order('also-on-pve2', { node: 'pve2' }));
  assert.is(accepted.status, 202, JSON.stringify(accepted.body));
  const active = await waitForPod(platform, accepted.body.pod.id, 'active on pve2', (p) => p?.status.phase === 'active');
  assert.is(active.status.node, 'pve2');
});

test('a volume on a storage the cluster does not have, or that holds no VM disks, is 422 naming storage_pool and writes nothing', async () => {
  const podId = placed.id;
  const before = await used();
  const refused = await api('POST', `/api/cloud-pods/${podId}/volumes`, { name: 'data', size_gb: 5, storage_pool: 'no-such-pool' });
  assert.is(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(fieldsOf(refused.body), ['storage_pool']);
  assert.is(refused.body.error.details.reason, 'StorageNotFound');
  assert.match(refused.body.error.message, 'no storage no-such-pool on node pve2 (it has local, local-lvm, templates)');
  // `local` holds ISO images, backups and snippets in the simulated cluster, as on a fresh PVE install.
  const isos = await api('POST', `/api/cloud-pods/${podId}/volumes`, { name: 'data', size_gb: 5, storage_pool: 'local' });
  assert.is(isos.status, 422, JSON.stringify(isos.body));
  assert.equal(fieldsOf(isos.body), ['storage_pool']);
  assert.is(isos.body.error.details.reason, 'StorageNotForDisks');
  assert.is(isos.body.error.message, 'storage_pool: storage local on node pve2 does not hold VM disks ' +
    '(its content: backup, iso, snippets, vztmpl; storages for VM disks: local-lvm, templates)');
  assert.equal((await api('GET', `/api/cloud-pods/${podId}/volumes`)).body.volumes, []);
  assert.equal(await used(), before, 'no quota held');
  const audit = await platform.database.db.selectFrom('cloud_pod_audit').select('action')
    .where('action', '=', 'volume.created').where('pod_id', '=', podId).execute();
  assert.equal(audit, []);
  const accepted = await api('POST', `/api/cloud-pods/${podId}/volumes`, { name: 'data', size_gb: 5, storage_pool: 'local-lvm' });
  assert.is(accepted.status, 202, JSON.stringify(accepted.body));
});

test('a storage is looked for, holding VM disks, on the given nodes; on any node when none is given', () => {
  const storage = (node: string, id: string, content?: string): ClusterResource =>
    ({ id: `storage/${node}/${id}`, type: 'storage', node, storage: id, ...(content === undefined ? {} : { content }) });
  const facts = { nodes: [], vms: new Map(), storages: [storage('pve1', 'local-lvm', 'images,rootdir'),
    storage('pve2', 'fast'), storage('pve1', 'isos', 'iso,vztmpl'), storage('pve2', 'isos', 'images')] };
  assert.is(storageProblem(facts, 'fast', null), undefined);
  assert.is(storageProblem(facts, 'fast', ['pve2']), undefined, 'content not listed: given the benefit of the doubt');
  assert.is(storageProblem(facts, 'fast', ['pve1', 'pve2']), undefined);
  assert.equal(storageProblem(facts, 'fast', ['pve1']),
    { reason: 'StorageNotFound', message: 'no storage fast on node pve1 (it has isos, local-lvm)' });
  assert.equal(storageProblem(facts, 'slow', null),
    { reason: 'StorageNotFound', message: 'no storage slow in the Proxmox cluster (it has fast, isos, local-lvm)' });
  assert.equal(storageProblem(facts, 'slow', ['pve1', 'pve1', 'pve2']),
    { reason: 'StorageNotFound', message: 'no storage slow on node pve1 or pve2 (they have fast, isos, local-lvm)' });
  assert.equal(storageProblem(facts, 'isos', ['pve1']), { reason: 'StorageNotForDisks', message:
    'storage isos on node pve1 does not hold VM disks (its content: iso, vztmpl; storages for VM disks: local-lvm)' });
  assert.is(storageProblem(facts, 'isos', ['pve2']), undefined, 'the same name may hold disks on another node');
  assert.is(storageProblem(facts, 'isos', null), undefined);
});

test('a template whose VMID is no VM, or no template, is 422 naming proxmox_template_vmid, on create and on change', async () => {
  const podVmid = placed.vmid;
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

test('a template\'s default_node must be a node, its storage_pool hold VM disks on the template VM\'s node or the default node, on create and on change', async () => {
  const refusedAs = async (response: any, field: string, reason: string, message: string) => {
    assert.is(response.status, 422, JSON.stringify(response.body));
    assert.equal(fieldsOf(response.body), [field]);
    assert.is(response.body.error.details.reason, reason);
    assert.is(response.body.error.message, `${field}: ${message}`);
  };
  await refusedAs(await api('POST', '/api/cloud-pods/templates', { ...template('astray', 9000), default_node: 'no-such-node' },
    admin), 'default_node', 'NodeNotFound', 'no node no-such-node in the Proxmox cluster (it has pve1, pve2, pve3)');
  // VM 9000 lives on pve1; `local` holds no VM disks on any node.
  await refusedAs(await api('POST', '/api/cloud-pods/templates', { ...template('isos', 9000), storage_pool: 'local' }, admin),
    'storage_pool', 'StorageNotForDisks', 'storage local on node pve1 does not hold VM disks ' +
    '(its content: backup, iso, snippets, vztmpl; storages for VM disks: local-lvm, templates)');
  await refusedAs(await api('POST', '/api/cloud-pods/templates',
    { ...template('isos', 9000), storage_pool: 'local', default_node: 'pve3' }, admin),
  'storage_pool', 'StorageNotForDisks', 'storage local on node pve1 or pve3 does not hold VM disks ' +
    '(its content: backup, iso, snippets, vztmpl; storages for VM disks: local-lvm, templates)');
  await refusedAs(await api('POST', '/api/cloud-pods/templates', { ...template('pool-less', 9000), storage_pool: 'no-such-pool' },
    admin), 'storage_pool', 'StorageNotFound', 'no storage no-such-pool on node pve1 (it has local, local-lvm, templates)');
  for (const code of ['astray', 'isos', 'pool-less']) {
    assert.is((await api('GET', `/api/cloud-pods/templates/${code}`, undefined, admin)).status, 404, `${code} not stored`);
  }

  const created = await api('POST', '/api/cloud-pods/templates',
    { ...template('on-pve2', 9000), default_node: 'pve2', storage_pool: 'templates' }, admin);
  assert.is(created.status, 201, JSON.stringify(created.body));
  const path = '/api/cloud-pods/templates/on-pve2';
  await refusedAs(await api('PATCH', path, { default_node: 'no-such-node' }, admin), 'default_node', 'NodeNotFound',
    'no node no-such-node in the Proxmox cluster (it has pve1, pve2, pve3)');
  await refusedAs(await api('PATCH', path, { storage_pool: 'local' }, admin), 'storage_pool', 'StorageNotForDisks',
    'storage local on node pve1 or pve2 does not hold VM disks ' +
    '(its content: backup, iso, snippets, vztmpl; storages for VM disks: local-lvm, templates)');
  const kept = (await api('GET', path, undefined, admin)).body.template;
  assert.equal([kept.default_node, kept.storage_pool], ['pve2', 'templates'], 'unchanged');
  assert.is((await api('PATCH', path, { default_node: 'pve3', storage_pool: 'local-lvm' }, admin)).status, 200);
  assert.is((await api('PATCH', path, { default_node: null }, admin)).status, 200);
  const changed = (await api('GET', path, undefined, admin)).body.template;
  assert.equal([changed.default_node, changed.storage_pool], [null, 'local-lvm']);
  const audit = await platform.database.db.selectFrom('cloud_pod_audit').select('action')
    .where('action', 'like', 'template.%').where(sql<boolean>`details->>'template' in ('astray', 'isos', 'pool-less', 'on-pve2')`)
    .orderBy('id').execute();
  assert.equal(audit.map((a) => a.action), ['template.created', 'template.updated', 'template.updated'], 'refusals write nothing');
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
    const unchecked = await api('POST', '/api/cloud-pods/templates',
      { ...template('unchecked', 9000), default_node: 'no-such-node', storage_pool: 'local' }, admin);
    assert.is(unchecked.status, 201, JSON.stringify(unchecked.body));
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
