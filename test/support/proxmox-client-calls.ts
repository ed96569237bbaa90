import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { isEmptyWrite, planConfigWrite } from '../../src/proxmox/encoding/config-write.ts';
import { decodeSshKeys } from '../../src/proxmox/encoding/sshkeys.ts';
import { parseTags } from '../../src/proxmox/encoding/tags.ts';
import { isUpid, parseUpid } from '../../src/proxmox/upid.ts';
import { waitFor } from './wait.ts';
import { assertConformanceAfterEach, startTestSimulator, type TestSimulator, type TransportName } from './proxmox-sim.ts';

/**
 * Every client call against the simulator, registered on a suite for one transport, with the schema check after
 * each test. The HTTPS and SSH suites run exactly these tests.
 */
export function registerClientCallTests(test: Test, transport: TransportName): void {
  let testSim: TestSimulator;
  let client: ProxmoxClient;
  const node = 'pve1';
  const sshKeys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+/= alice@example.com', 'ssh-rsa AAAAB3NzaC1yc2E bob@laptop'];

  test.before(async () => {
    testSim = await startTestSimulator();
    client = testSim.client(transport);
  });
  test.after(async () => {
    await testSim?.stop();
  });
  assertConformanceAfterEach(test, () => testSim);

  async function cloneTemplate(name: string): Promise<number> {
    const newid = await client.nextId();
    const upid = await client.clone(node, 9000, { newid, name, full: true, storage: 'local-lvm' });
    await client.waitForTask(upid);
    return newid;
  }

  test(`${transport}: cluster resources, nodes, nextid, VM list`, async () => {
    const nodes = await client.nodes();
    assert.equal(nodes.map((n) => [n.node, n.status]), [['pve1', 'online'], ['pve2', 'online'], ['pve3', 'online']]);
    const vms = await client.clusterResources('vm');
    const template = vms.find((r) => r.vmid === 9000)!;
    assert.is(template.template, 1);
    assert.is(template.node, 'pve1');
    assert.equal(parseTags(template.tags), ['debian', 'template']);
    assert.ok((await client.clusterResources()).some((r) => r.type === 'storage'));
    assert.is(await client.nextId(), 100);
    assert.is(await client.nextId(), 100, 'nextid reserves nothing');
    assert.ok(await client.isVmidFree(100));
    assert.not.ok(await client.isVmidFree(9000));
    assert.equal((await client.listVms(node)).map((vm) => vm.vmid).sort(), [9000, 9001]);
    if (testSim.conformance.enabled) assert.ok(testSim.conformance.checkedRequests >= 7, 'the schema check saw the requests');
  });

  test(`${transport}: clone holds the clone lock, then the config reads back with its digest`, async () => {
    const newid = await client.nextId();
    const upid = await client.clone(node, 9000, { newid, name: 'web-1', full: true, storage: 'local-lvm' });
    assert.ok(isUpid(upid));
    assert.equal([parseUpid(upid).type, parseUpid(upid).id, parseUpid(upid).node], ['qmclone', '9000', node]);
    const during = await client.getConfig(node, newid);
    assert.is(during.lock, 'clone');
    assert.is(await client.nextId(), newid + 1, 'the clone target is taken at once');
    const result = await client.waitForTask(upid);
    assert.is(result.exitStatus, 'OK');
    const config = await client.getConfig(node, newid);
    assert.is(config.lock, undefined);
    assert.is(config.name, 'web-1');
    assert.match(String(config.scsi0), /^local-lvm:vm-\d+-disk-0,.*size=4G/);
    assert.match(config.digest, /^[0-9a-f]{40}$/);
  });

  test(`${transport}: async and sync config writes keep MAC, tags, sshkeys and memory stable`, async () => {
    const vmid = await cloneTemplate('config-1');
    const before = await client.getConfig(node, vmid);
    const desired = {
      memory: 2048, cores: 2, tags: ['cloudpods-abc', 'Web'], sshkeys: sshKeys, net0: 'virtio,bridge=vmbr0,firewall=1',
      ipconfig0: 'ip=10.1.2.3/24,gw=10.1.2.1', ciuser: 'debian', description: 'managed-by=cloudpods uid=abc',
    };
    const write = planConfigWrite(before, desired);
    const upid = await client.updateConfig(node, vmid, write, { digest: before.digest });
    if (upid) await client.waitForTask(upid);
    const after = await client.getConfig(node, vmid);
    assert.is(String(after.net0).slice(0, 25), String(before.net0).slice(0, 25), 'the MAC survives the write');
    assert.equal(decodeSshKeys(String(after.sshkeys)), sshKeys);
    assert.is(after.tags, 'cloudpods-abc;web');
    assert.ok(isEmptyWrite(planConfigWrite(after, desired)), 'no perpetual diff');
    await client.updateConfigSync(node, vmid, planConfigWrite(after, { onboot: true, ciuser: null }), { digest: after.digest });
    const synced = await client.getConfig(node, vmid);
    assert.is(synced.onboot, 1);
    assert.is(synced.ciuser, undefined);
    assert.equal(await client.pending(node, vmid).then((p) => p.filter((c) => c.pending !== undefined || c.delete)), []);
  });

  test(`${transport}: resize, start, status, pending, guest agent, shutdown and stop`, async () => {
    const vmid = await cloneTemplate('power-1');
    await client.waitForTask(await client.resize(node, vmid, 'scsi0', '10G', { storage: 'local-lvm' }));
    assert.match(String((await client.getConfig(node, vmid)).scsi0), /size=10G/);
    assert.is(await client.guestNetworkInterfaces(node, vmid), null, 'stopped: no agent');
    await client.waitForTask(await client.start(node, vmid));
    const status = await client.currentStatus(node, vmid);
    assert.equal([status.vmid, status.status, status.qmpstatus], [vmid, 'running', 'running']);
    const config = await client.getConfig(node, vmid);
    await client.updateConfigSync(node, vmid, planConfigWrite(config, { memory: 4096 }), { digest: config.digest });
    const pending = await client.pending(node, vmid);
    assert.equal(pending.find((c) => c.key === 'memory'), { key: 'memory', value: '1024', pending: '4096' });
    assert.is((await client.getConfig(node, vmid, { current: true })).memory, '1024');
    const interfaces = await waitFor('the guest agent to report an address',
      () => client.guestNetworkInterfaces(node, vmid), (value) => value !== null);
    const eth0 = interfaces!.find((i) => i.name === 'eth0')!;
    assert.is(eth0['hardware-address'], String(config.net0).slice(7, 24).toLowerCase());
    assert.ok(eth0['ip-addresses']!.some((a) => a['ip-address-type'] === 'ipv4'));
    await client.waitForTask(await client.shutdown(node, vmid, { timeout: 5 }));
    assert.is((await client.currentStatus(node, vmid)).status, 'stopped');
    await client.waitForTask(await client.start(node, vmid));
    assert.is((await client.getConfig(node, vmid, { current: true })).memory, '4096', 'pending applied at start');
    await client.waitForTask(await client.stop(node, vmid));
    assert.is((await client.currentStatus(node, vmid)).status, 'stopped');
  });

  test(`${transport}: unlink and destroy with purge leave no volume behind`, async () => {
    const vmid = await cloneTemplate('gone-1');
    const config = await client.getConfig(node, vmid);
    const upid = await client.updateConfig(node, vmid, planConfigWrite(config, { scsi1: 'local-lvm:2,iothread=1' }));
    if (upid) await client.waitForTask(upid);
    assert.match(String((await client.getConfig(node, vmid)).scsi1), /^local-lvm:vm-\d+-disk-1,iothread=1,size=2G$/);
    await client.unlinkDisks(node, vmid, ['scsi1']);
    assert.match(String((await client.getConfig(node, vmid)).unused0), /^local-lvm:vm-\d+-disk-1$/);
    await client.waitForTask(await client.destroy(node, vmid));
    assert.ok(await client.isVmidFree(vmid));
    assert.equal(await client.storageContent(node, 'local-lvm', { vmid }), []);
  });

  test(`${transport}: storage status and content, backups listed and deleted`, async () => {
    const vmid = await cloneTemplate('backup-1');
    const status = await client.storageStatus(node, 'local-lvm');
    assert.is(status.total, 500 * 1024 ** 3);
    assert.ok(status.avail! < status.total!);
    const images = await client.storageContent(node, 'local-lvm', { content: 'images', vmid });
    assert.is(images.length, 1);
    const upid = await client.backup(node, { vmid, storage: 'local', mode: 'snapshot', compress: 'zstd',
      notesTemplate: '{{guestname}} ({{vmid}})', protected: false, remove: false });
    await client.waitForTask(upid);
    const backups = await client.listBackups(node, 'local', vmid);
    assert.is(backups.length, 1);
    assert.match(backups[0]!.volid, new RegExp(`^local:backup/vzdump-qemu-${vmid}-.*\\.vma\\.zst$`));
    assert.is(backups[0]!.notes, `backup-1 (${vmid})`);
    const deleted = await client.deleteVolume(node, 'local', backups[0]!.volid);
    if (deleted) await client.waitForTask(deleted);
    assert.equal(await client.listBackups(node, 'local', vmid), []);
  });

  test(`${transport}: task status, log and active tasks`, async () => {
    const newid = await client.nextId();
    const upid = await client.clone(node, 9001, { newid, name: 'task-1' });
    const active = await client.activeTasks(node, 9001);
    assert.ok(active.some((task) => task.upid === upid), 'the running clone is listed');
    assert.is((await client.taskStatus(upid)).status, 'running');
    await client.waitForTask(upid);
    const status = await client.taskStatus(upid);
    assert.equal([status.status, status.exitstatus, status.type], ['stopped', 'OK', 'qmclone']);
    const log = await client.taskLog(upid);
    assert.is(log.lines.at(-1), 'TASK OK');
    assert.is(log.total, log.lines.length);
  });

  test(`${transport}: cloud-init user-data uploaded as a snippet over SFTP and referenced by cicustom`, async () => {
    const vmid = await cloneTemplate('snippet-1');
    const userData = '#cloud-config\npackages: [nginx]\n';
    const volid = await client.uploadSnippet(node, `cloudpods-${vmid}-user.yaml`, userData);
    assert.is(volid, `local:snippets/cloudpods-${vmid}-user.yaml`);
    const listed = await client.storageContent(node, 'local', { content: 'snippets' });
    assert.ok(listed.some((item) => item.volid === volid && item.size === userData.length));
    const config = await client.getConfig(node, vmid);
    await client.updateConfigSync(node, vmid, planConfigWrite(config, { cicustom: `user=${volid}` }), { digest: config.digest });
    assert.is((await client.getConfig(node, vmid)).cicustom, `user=${volid}`);
  });
}
