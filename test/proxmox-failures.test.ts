import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProxmoxApi } from '../src/proxmox/api.ts';
import type { ProxmoxClient } from '../src/proxmox/client.ts';
import { planConfigWrite } from '../src/proxmox/encoding/config-write.ts';
import {
  ConflictError, InvalidParametersError, LockedError, NotFoundError, PermissionDeniedError, ProxmoxError,
  StorageFullError, TaskFailedError, TransientError,
} from '../src/proxmox/errors.ts';
import { createHttpsTransport } from '../src/proxmox/transport/https-transport.ts';
import { assertConformanceAfterEach, startTestSimulator, type TestSimulator } from './support/proxmox-sim.ts';

const test = suite('proxmox failures: each error class from the simulated failure');
let testSim: TestSimulator;
let client: ProxmoxClient;
const node = 'pve1';

test.before(async () => {
  testSim = await startTestSimulator();
  client = testSim.client('https');
});
test.before.each(() => testSim.sim.faults.clear());
test.after(async () => {
  await testSim?.stop();
});
assertConformanceAfterEach(test, () => testSim);

async function failureOf(work: () => Promise<unknown>): Promise<ProxmoxError> {
  try {
    await work();
  } catch (error) {
    assert.instance(error, ProxmoxError, String(error));
    return error as ProxmoxError;
  }
  throw new Error('expected a failure');
}

async function aVm(name: string): Promise<number> {
  const newid = await client.nextId();
  await client.waitForTask(await client.clone(node, 9000, { newid, name, full: true }));
  return newid;
}

test('Locked: a config lock refuses a sync write at once and an async one in its task', async () => {
  const vmid = await aVm('locked-1');
  testSim.sim.faults.setConfigLock(vmid, 'backup');
  const sync = await failureOf(() => client.updateConfigSync(node, vmid, { set: { onboot: '1' }, delete: [] }));
  assert.instance(sync, LockedError);
  assert.equal([(sync as LockedError).lock, sync.status, sync.message], ['backup', 500, 'VM is locked (backup)']);
  assert.ok(sync.retryable);
  const upid = await client.updateConfig(node, vmid, { set: { onboot: '1' }, delete: [] });
  const failed = await failureOf(() => client.waitForTask(upid!));
  assert.instance(failed, TaskFailedError);
  assert.instance((failed as TaskFailedError).reason, LockedError);
  assert.ok(failed.retryable);
  testSim.sim.faults.setConfigLock(vmid, undefined);
});

test('Locked: a held lock file times out as "can\'t lock file ... got timeout"', async () => {
  const vmid = await aVm('flock-1');
  await testSim.sim.faults.holdLockFile(vmid, 2000);
  const error = await failureOf(() => client.updateConfigSync(node, vmid, { set: { onboot: '1' }, delete: [] }));
  assert.instance(error, LockedError);
  assert.is((error as LockedError).lock, 'file');
  assert.match(error.message, new RegExp(`can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout`));
});

test('NotFound: a missing VM is a 500 "does not exist"; an unknown task is not found', async () => {
  const error = await failureOf(() => client.getConfig(node, 4242));
  assert.instance(error, NotFoundError);
  assert.equal([error.status, error.message], [500, "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist"]);
  assert.instance(await failureOf(() => client.currentStatus('pve2', 9000)), NotFoundError, 'a VM asked on the wrong node');
  const unknown = 'UPID:pve1:00000001:00000002:00000003:qmstart:4242:root@pam!cloudpods:';
  assert.instance(await failureOf(() => client.taskStatus(unknown)), NotFoundError);
});

test('Conflict: running, already exists, protection, modified config', async () => {
  const vmid = await aVm('conflict-1');
  const existing = await failureOf(() => client.clone(node, 9000, { newid: vmid, name: 'again' }));
  assert.instance(existing, ConflictError);
  assert.is((existing as ConflictError).reason, 'already-exists');
  const config = await client.getConfig(node, vmid);
  await client.updateConfigSync(node, vmid, { set: { description: 'changed meanwhile' }, delete: [] });
  const modified = await failureOf(() => client.updateConfigSync(node, vmid, planConfigWrite(config, { cores: 4 }), { digest: config.digest }));
  assert.instance(modified, ConflictError);
  assert.is((modified as ConflictError).reason, 'modified');
  await client.updateConfigSync(node, vmid, { set: { protection: '1' }, delete: [] });
  const protectedVm = await failureOf(() => client.destroy(node, vmid));
  assert.is((protectedVm as ConflictError).reason, 'protected');
  await client.updateConfigSync(node, vmid, { set: { protection: '0' }, delete: [] });
  await client.waitForTask(await client.start(node, vmid));
  const running = await failureOf(() => client.destroy(node, vmid));
  assert.instance(running, ConflictError);
  assert.equal([(running as ConflictError).reason, running.message], ['running', `VM ${vmid} is running - destroy failed`]);
});

test('Transient: 5xx answers, an offline node (595), a timeout and a refused connection', async () => {
  const { faults } = testSim.sim;
  faults.addErrorRule({ path: '^/cluster/resources$', rate: 1, status: 503, message: 'Service Unavailable' });
  const unavailable = await failureOf(() => client.clusterResources());
  assert.instance(unavailable, TransientError);
  assert.is(unavailable.status, 503);
  faults.setNodeOnline('pve2', false);
  const offline = await failureOf(() => client.listVms('pve2'));
  assert.instance(offline, TransientError);
  assert.is(offline.status, 595);
  faults.clear();
  faults.addLatency({ path: '^/nodes$', ms: 400 });
  const slow = testSim.client('https', { requestTimeoutMs: 100 });
  const timeout = await failureOf(() => slow.nodes());
  assert.instance(timeout, TransientError);
  assert.match(timeout.message, /no answer within 100 ms/);
  const closedPort = new ProxmoxApi({ transport: createHttpsTransport({ url: 'https://127.0.0.1:1', trust: {} }),
    tokenId: 'a@pam!b', tokenSecret: 'c', perNodeConcurrency: 1, perStorageConcurrency: 1, requestTimeoutMs: 2000 });
  const nowhere = await failureOf(() => closedPort.call('GET', '/version'));
  await closedPort.close();
  assert.instance(nowhere, TransientError);
  assert.match(nowhere.message, /ECONNREFUSED/);
});

test('PermissionDenied: a read-only token may read but not act', async () => {
  testSim.sim.addToken({ id: 'auditor@pve!ro', secret: 'read-only-secret', readOnly: true });
  const auditor = testSim.client('https', { token: { id: 'auditor@pve!ro', secret: 'read-only-secret' } });
  assert.ok((await auditor.listVms(node)).length > 0);
  const error = await failureOf(() => auditor.start(node, 9000));
  assert.instance(error, PermissionDeniedError);
  assert.equal([error.status, error.message], [403, 'Permission check failed (/vms/9000, VM.PowerMgmt)']);
});

test('InvalidParameters: PVE names each bad parameter, and so does the schema check', async () => {
  const error = await failureOf(() => client.clone(node, 9000, { newid: 500, name: 'bad_name' }));
  assert.instance(error, InvalidParametersError);
  assert.equal(Object.keys((error as InvalidParametersError).parameters), ['name']);
  assert.match(error.message, /name: invalid format - value does not look like a valid DNS name/);
  const problems = testSim.conformance.takeProblems();
  if (testSim.conformance.enabled) {
    assert.ok(problems.some((p) => /POST \/nodes\/\{node\}\/qemu\/\{vmid\}\/clone: parameter "name": format dns-name/.test(p)), problems.join('\n'));
  }
});

test('TaskFailed: a full storage fails the clone task and leaves no half-made VM', async () => {
  const small = await startTestSimulator({
    // Two 4 GiB templates plus two 4 GiB clones fit in 18 GiB; a third clone does not.
    storages: [{ id: 'local-lvm', type: 'lvmthin', content: ['images'], shared: false, capacityBytes: 18 * 1024 ** 3 },
      { id: 'local', type: 'dir', content: ['backup', 'snippets'], shared: false, capacityBytes: 10 * 1024 ** 3 }],
  });
  try {
    const smallClient = small.client('https');
    for (const newid of [100, 101]) await smallClient.waitForTask(await smallClient.clone(node, 9000, { newid, full: true }));
    const upid = await smallClient.clone(node, 9000, { newid: 102, full: true });
    const failed = await failureOf(() => smallClient.waitForTask(upid));
    assert.instance(failed, TaskFailedError);
    assert.is((failed as TaskFailedError).exitStatus,
      'clone failed: lvcreate \'pve/vm-102-disk-0\' error:   Volume group "pve" has insufficient free space (512 extents): 1024 required.');
    assert.instance((failed as TaskFailedError).reason, StorageFullError);
    assert.match((failed as TaskFailedError).logTail.at(-1)!, /^TASK ERROR: clone failed/);
    assert.is(await smallClient.nextId(), 102, 'the failed target is gone');
    const shrink = await failureOf(async () => smallClient.waitForTask(await smallClient.resize(node, 100, 'scsi0', '1G')));
    assert.is((shrink as TaskFailedError).exitStatus, 'shrinking disks is not supported');
    small.conformance.assertClean();
  } finally {
    await small.stop();
  }
});

test.run();
