import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ProxmoxClient } from '../src/proxmox/client.ts';
import { isEmptyWrite, planConfigWrite, type DesiredConfig } from '../src/proxmox/encoding/config-write.ts';
import { assertConformanceAfterEach, startTestSimulator, type TestSimulator } from './support/proxmox-sim.ts';

const test = suite('proxmox round trips: write, read back, nothing left to write');
let testSim: TestSimulator;
let client: ProxmoxClient;
const node = 'pve1';

test.before(async () => {
  testSim = await startTestSimulator();
  client = testSim.client('ssh');
});
test.after(async () => {
  await testSim?.stop();
});
assertConformanceAfterEach(test, () => testSim);

const desiredConfigs: Array<[string, DesiredConfig]> = [
  ['tags in any case and order', { tags: ['Web', 'cloudpods-0f3a', 'db', 'web'] }],
  ['several ssh keys with +, / and =', { sshkeys: ['ssh-ed25519 AAAAC3Nza+/== a@b', 'ssh-rsa AAAAB3 c@d', 'ecdsa-sha2-nistp256 AAAAE2= e'] }],
  ['memory as a number', { memory: 3072 }],
  ['a NIC without a MAC (the current one is kept)', { net0: 'virtio,bridge=vmbr0,firewall=1' }],
  ['a second NIC, new', { net1: 'virtio,bridge=vmbr1,tag=20' }],
  ['a description with trailing spaces', { description: 'managed-by=cloudpods uid=0f3a   \nsecond line  \n\n' }],
  ['cloud-init network and user', { ipconfig0: 'ip=192.0.2.10/24,gw=192.0.2.1', ciuser: 'admin', nameserver: '192.0.2.53', onboot: true }],
];

async function converge(vmid: number, desired: DesiredConfig, sync: boolean): Promise<void> {
  const before = await client.getConfig(node, vmid);
  const write = planConfigWrite(before, desired);
  assert.not.ok(isEmptyWrite(write), 'the first write changes something');
  if (sync) await client.updateConfigSync(node, vmid, write, { digest: before.digest });
  else {
    const upid = await client.updateConfig(node, vmid, write, { digest: before.digest });
    if (upid) await client.waitForTask(upid);
  }
  const after = await client.getConfig(node, vmid);
  const again = planConfigWrite(after, desired);
  assert.ok(isEmptyWrite(again), `perpetual diff: ${JSON.stringify(again)}`);
}

test('each trap converges in one write, stopped, async and sync', async () => {
  for (const [index, sync] of [[0, false], [1, true]] as const) {
    const vmid = 200 + index;
    await client.waitForTask(await client.clone(node, 9000, { newid: vmid, name: `roundtrip-${index}` }));
    for (const [what, desired] of desiredConfigs) {
      try {
        await converge(vmid, desired, sync);
      } catch (error) {
        throw new Error(`${what} (${sync ? 'sync' : 'async'}): ${(error as Error).message}`);
      }
    }
  }
});

test('a running VM: pending changes read back as desired, so nothing is rewritten until the reboot', async () => {
  const vmid = 210;
  await client.waitForTask(await client.clone(node, 9000, { newid: vmid, name: 'roundtrip-running' }));
  await client.waitForTask(await client.start(node, vmid));
  await converge(vmid, { memory: 4096, cores: 2, sshkeys: ['ssh-ed25519 AAAA x@y'], tags: ['b', 'a'] }, true);
  const pending = (await client.pending(node, vmid)).filter((c) => c.pending !== undefined).map((c) => c.key).sort();
  assert.equal(pending, ['cores', 'memory', 'sshkeys']);
});

test.run();
