import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startProxmoxSimulator } from '../src/sim/proxmox/simulator.ts';
import { readSimState } from '../src/sim/proxmox/state-file.ts';
import { startTestSimulator, type TestSimulator } from './support/proxmox-sim.ts';
import { waitFor } from './support/wait.ts';

/** The simulator with a state file: what one process left is what the next one serves. */
const test = suite('proxmox simulator state file');
const node = 'pve1';
const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudpods-sim-state-'));
const started: TestSimulator[] = [];

async function simulatorOn(stateFile: string, cloneMs = 100): Promise<TestSimulator> {
  const sim = await startTestSimulator({ stateFile, durations: { cloneMs, agentStartMs: 50 } });
  started.push(sim);
  return sim;
}

test.after(async () => {
  for (const sim of started) await sim.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test('a stopped simulator comes back with its VMs, disks, power state, pending changes and tasks', async () => {
  const stateFile = path.join(dir, 'round-trip.json');
  const first = await simulatorOn(stateFile);
  const client = first.client('https');
  const cloned = await client.clone(node, 9001, { newid: 120, name: 'kept' });
  await client.waitForTask(cloned);
  await client.waitForTask(await client.resize(node, 120, 'scsi0', '6G'));
  await client.waitForTask(await client.start(node, 120));
  await client.updateConfigSync(node, 120, { set: { cores: '2' }, delete: [] });
  const config = await client.getConfig(node, 120);
  const pending = await client.pending(node, 120);
  await first.stop();

  const second = await simulatorOn(stateFile);
  const again = second.client('https');
  assert.equal(await again.getConfig(node, 120), config, 'the same config, MAC and digest included');
  assert.equal(await again.pending(node, 120), pending, 'a change waiting for the next start still waits');
  assert.is((await again.currentStatus(node, 120)).status, 'running');
  const disks = await again.storageContent(node, 'local-lvm', { vmid: 120 });
  assert.equal(disks.map((d) => [d.volid, d.size]), [['local-lvm:base-9001-disk-0/vm-120-disk-0', 6 * 1024 ** 3]]);
  assert.is((await again.taskStatus(cloned)).exitstatus, 'OK', 'the clone task is still known');
  const stopped = await again.stop(node, 120);
  assert.is.not(stopped, cloned, 'new tasks get new UPIDs');
  await again.waitForTask(stopped);
});

test('after a crash mid-clone the clone has failed: its half-made VM is gone and its task ended unexpectedly', async () => {
  const stateFile = path.join(dir, 'crash.json');
  const crashed = await simulatorOn(stateFile, 5_000);
  const upid = await crashed.client('https').clone(node, 9000, { newid: 130 });
  await waitFor('the locked clone target to be saved', () => readSimState(stateFile),
    (state) => state?.vms.some((vm) => vm.vmid === 130 && vm.config.lock === 'clone') ?? false);

  // The crashed one is never stopped before the next one reads the file, as after a SIGKILL.
  const next = await simulatorOn(stateFile);
  const client = next.client('https');
  assert.not.ok((await client.clusterResources('vm')).some((vm) => vm.vmid === 130), 'the clone target is gone');
  const status = await client.taskStatus(upid);
  assert.equal([status.status, status.exitstatus], ['stopped', 'unexpected status']);
  await client.waitForTask(await client.clone(node, 9000, { newid: 130 }));
});

test('a file that is not a saved state stops the start, naming the file and --reset', async () => {
  const stateFile = path.join(dir, 'garbage.json');
  writeFileSync(stateFile, 'not json');
  try {
    await startProxmoxSimulator({ stateFile });
    assert.unreachable('started on a broken state file');
  } catch (error) {
    assert.match((error as Error).message, `${stateFile} is not a Proxmox simulator state`);
    assert.match((error as Error).message, /--reset/);
  }
});

test.run();
