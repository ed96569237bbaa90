import https from 'node:https';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ProxmoxClient } from '../src/proxmox/client.ts';
import { ConflictError, LockedError, TaskFailedError, TransientError } from '../src/proxmox/errors.ts';
import * as golden from './fixtures/pve-golden.ts';
import { assertConformanceAfterEach, startTestSimulator, type TestSimulator } from './support/proxmox-sim.ts';
import { waitFor } from './support/wait.ts';

const test = suite('proxmox simulator behaves as PVE');
let testSim: TestSimulator;
let client: ProxmoxClient;
const node = 'pve1';

test.before(async () => {
  testSim = await startTestSimulator({ durations: { cloneMs: 400, agentStartMs: 300 } });
  client = testSim.client('https');
});
test.before.each(() => testSim.sim.faults.clear());
test.after(async () => {
  await testSim?.stop();
});
assertConformanceAfterEach(test, () => testSim);

async function rejection(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

test('nextid answers the lowest free id, reserves nothing and reissues a destroyed one', async () => {
  const a = await client.nextId();
  await client.waitForTask(await client.clone(node, 9000, { newid: a }));
  const b = await client.nextId();
  await client.waitForTask(await client.clone(node, 9000, { newid: b }));
  assert.is(b, a + 1);
  await client.waitForTask(await client.destroy(node, a));
  assert.is(await client.nextId(), a, 'the gap is reused');
  assert.is(await client.nextId(), a, 'still: asking reserves nothing');
});

test('a clone takes time holding the clone lock: the new VM refuses work until it is done', async () => {
  const newid = await client.nextId();
  const upid = await client.clone(node, 9000, { newid, name: 'busy-1' });
  const locked = await rejection(() => client.updateConfigSync(node, newid, { set: { cores: '2' }, delete: [] }));
  assert.instance(locked, LockedError);
  assert.is(locked.message, 'VM is locked (clone)');
  const start = await rejection(async () => client.waitForTask(await client.start(node, newid)));
  assert.instance(start, TaskFailedError);
  assert.is((start as TaskFailedError).exitStatus, 'VM is locked (clone)');
  assert.instance(await rejection(() => client.destroy(node, newid)), LockedError);
  assert.is((await client.clusterResources('vm')).find((r) => r.vmid === newid)?.lock, 'clone');
  await client.waitForTask(upid);
  await client.updateConfigSync(node, newid, { set: { cores: '2' }, delete: [] });
});

test('template clones run in parallel (shared lock) while a write to the template times out', async () => {
  const first = await client.nextId();
  const upids = await Promise.all([0, 1, 2].map((i) => client.clone(node, 9000, { newid: first + i })));
  const write = await rejection(() => client.updateConfigSync(node, 9000, { set: { description: 'x' }, delete: [] }));
  assert.instance(write, LockedError);
  assert.match(write.message, /can't lock file '\/var\/lock\/qemu-server\/lock-9000.conf' - got timeout/);
  for (const upid of upids) await client.waitForTask(upid);
});

test('a running VM cannot be destroyed; its guest agent reports an address some time after start', async () => {
  const vmid = await client.nextId();
  await client.waitForTask(await client.clone(node, 9000, { newid: vmid }));
  await client.waitForTask(await client.start(node, vmid));
  const destroy = await rejection(() => client.destroy(node, vmid));
  assert.instance(destroy, ConflictError);
  const startedAt = Date.now();
  assert.is(await client.guestNetworkInterfaces(node, vmid), null, 'the agent is not up yet');
  const interfaces = await waitFor('the agent', () => client.guestNetworkInterfaces(node, vmid), (v) => v !== null);
  assert.ok(Date.now() - startedAt >= 200);
  assert.ok(interfaces!.some((i) => i.name === 'eth0'));
  const again = await rejection(async () => client.waitForTask(await client.start(node, vmid)));
  assert.match((again as TaskFailedError).exitStatus, /already running/);
  await client.waitForTask(await client.stop(node, vmid));
  await client.waitForTask(await client.destroy(node, vmid));
});

test('a shutdown with the agent configured but silent hangs until its timeout unless forceStop', async () => {
  const vmid = await client.nextId();
  await client.waitForTask(await client.clone(node, 9000, { newid: vmid }));
  testSim.sim.durations.agentStartMs = 60_000;
  try {
    await client.waitForTask(await client.start(node, vmid));
    const hung = await rejection(async () => client.waitForTask(await client.shutdown(node, vmid, { timeout: 1 })));
    assert.is((hung as TaskFailedError).exitStatus, 'VM quit/powerdown failed - got timeout');
    await client.waitForTask(await client.shutdown(node, vmid, { timeout: 1, forceStop: true }));
    assert.is((await client.currentStatus(node, vmid)).status, 'stopped');
  } finally {
    testSim.sim.durations.agentStartMs = 300;
  }
});

test('attaching a volume held in unusedN removes that entry, as qemu-server does when a drive re-adds a volume', async () => {
  const vmid = await client.nextId();
  await client.waitForTask(await client.clone(node, 9000, { newid: vmid }));
  const config = () => client.getConfig(node, vmid);
  await client.updateConfigSync(node, vmid, { set: { scsi1: 'local-lvm:1' }, delete: [] });
  const volid = String((await config()).scsi1).split(',')[0]!;
  await client.unlinkDisks(node, vmid, ['scsi1']);
  assert.is((await config()).unused0, volid, 'detached: kept as an unused disk');

  await client.updateConfigSync(node, vmid, { set: { scsi2: volid }, delete: [] });
  const attached = await config();
  assert.is(attached.scsi2, `${volid},size=1G`);
  assert.equal(Object.keys(attached).filter((key) => key.startsWith('unused')), [], 'no unused entry left for it');

  await client.unlinkDisks(node, vmid, ['scsi2']);
  const detached = await config();
  assert.equal(Object.entries(detached).filter(([key]) => key.startsWith('unused')), [['unused0', volid]], 'once again');
  await client.waitForTask(await client.destroy(node, vmid));
});

test('values are stored the way PVE prints them, whatever the order they were sent in', async () => {
  const vmid = await client.nextId();
  await client.waitForTask(await client.clone(node, 9000, { newid: vmid }));
  const tagged = golden.netDevices.find((device) => device.options.tag !== undefined)!;
  const tags = golden.tags[0]!;
  await client.updateConfigSync(node, vmid, {
    set: { net1: tagged.sent, tags: tags.sent, scsi1: 'local-lvm:1,serial=cp0123456789abcdef01,discard=on', ide0: 'local-lvm:cloudinit' },
    delete: [],
  });
  const config = await client.getConfig(node, vmid);
  assert.is(`net1: ${config.net1}`, tagged.line.replace(/^net0/, 'net1'));
  assert.is(`tags: ${config.tags}`, tags.line);
  assert.match(String(config.scsi1), /^local-lvm:vm-\d+-disk-\d+,discard=on,serial=cp0123456789abcdef01,size=1G$/);
  assert.is(config.ide0, `local-lvm:vm-${vmid}-cloudinit,media=cdrom`);
  await client.waitForTask(await client.destroy(node, vmid));
});

test('a node can go offline: listed as such, its VMs unknown, calls to it transient', async () => {
  testSim.sim.faults.setNodeOnline('pve1', false);
  assert.is((await client.nodes()).find((n) => n.node === 'pve1')?.status, 'offline');
  assert.is((await client.clusterResources('vm')).find((r) => r.vmid === 9000)?.status, 'unknown');
  assert.instance(await rejection(() => client.currentStatus(node, 9000)), TransientError);
});

test('the fault API over HTTPS: node down, error rules, stats', async () => {
  const { sim } = testSim;
  const call = (method: string, path: string, body?: unknown) => new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = https.request(`${sim.url}${path}`, {
      method, ca: sim.caCertificate, headers: { authorization: `PVEAPIToken=${sim.token.id}=${sim.token.secret}`, 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
  assert.is((await call('POST', '/_sim/node', { node: 'pve3', online: false })).status, 200);
  assert.is((await client.nodes()).find((n) => n.node === 'pve3')?.status, 'offline');
  await call('POST', '/_sim/errors', { path: '^/cluster/nextid$', rate: 1, status: 500, message: 'cluster not ready - no quorum?' });
  const noQuorum = await rejection(() => client.nextId());
  assert.instance(noQuorum, TransientError);
  assert.is(noQuorum.message, 'cluster not ready - no quorum?');
  await call('POST', '/_sim/config-lock', { vmid: 9001, lock: 'backup' });
  assert.is((await client.getConfig(node, 9001)).lock, 'backup');
  await call('POST', '/_sim/config-lock', { vmid: 9001, lock: null });
  assert.is((await call('POST', '/_sim/storage-content', { storage: 'local-lvm', content: ['iso', 'backup'] })).status, 200);
  const contentOf = async () => (await client.clusterResources('storage'))
    .filter((s) => s.storage === 'local-lvm').map((s) => s.content);
  assert.equal(await contentOf(), ['iso,backup', 'iso,backup', 'iso,backup'], 'on every node');
  assert.is((await client.storageStatus(node, 'local-lvm')).content, 'iso,backup');
  assert.is((await call('POST', '/_sim/storage-content', { storage: 'nowhere', content: [] })).status, 400);
  await call('DELETE', '/_sim/faults');
  assert.ok((await client.nextId()) >= 100);
  assert.equal(await contentOf(), ['images,rootdir', 'images,rootdir', 'images,rootdir'], 'as configured again');
  const stats = await call('GET', '/_sim/stats');
  assert.ok(stats.body.data.requests > 0);
  assert.type(stats.body.data.maxInFlightByNode.pve1, 'number');
  assert.is((await call('GET', '/_sim/nothing')).status, 404);

  // Out of band: a VM stopped, paused, its guest agent hung; resume and reset repair what a clean reboot cannot.
  const vmid = await client.nextId();
  await client.waitForTask(await client.clone(node, 9000, { newid: vmid }));
  await client.waitForTask(await client.start(node, vmid));
  await waitFor('the guest agent', () => client.agentPing(node, vmid), (answered) => answered);
  assert.is((await call('POST', '/_sim/vm-pause', { vmid })).status, 200);
  assert.equal([(await client.currentStatus(node, vmid)).qmpstatus, await client.agentPing(node, vmid)], ['paused', false]);
  assert.is((await client.clusterResources('vm')).find((r) => r.vmid === vmid)?.status, 'running', 'paused is running to PVE');
  await client.waitForTask(await client.resume(node, vmid));
  assert.equal([(await client.currentStatus(node, vmid)).qmpstatus, await client.agentPing(node, vmid)], ['running', true]);
  await call('POST', '/_sim/agent-hang', { vmid, hung: true });
  assert.is(await client.agentPing(node, vmid), false);
  assert.instance(await rejection(async () => client.waitForTask(await client.reboot(node, vmid, { timeout: 1 }))), TaskFailedError,
    'a guest that does not answer does not reboot');
  await client.waitForTask(await client.reset(node, vmid));
  await waitFor('the guest agent after the reset', () => client.agentPing(node, vmid), (answered) => answered);
  await call('POST', '/_sim/vm-stop', { vmid });
  assert.is((await client.currentStatus(node, vmid)).status, 'stopped');
  await client.waitForTask(await client.destroy(node, vmid));
});

test.run();
