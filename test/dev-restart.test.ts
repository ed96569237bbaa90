import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DevFile } from '../src/cli/common.ts';
import { ProxmoxApi } from '../src/proxmox/api.ts';
import { ProxmoxClient } from '../src/proxmox/client.ts';
import { noSnippetStore } from '../src/proxmox/snippets.ts';
import { createHttpsTransport } from '../src/proxmox/transport/https-transport.ts';
import { readSimState } from '../src/sim/proxmox/state-file.ts';
import { startDevProcess } from './support/dev-process.ts';
import { waitFor } from './support/wait.ts';

/** `cloudpods dev` as a user runs it, killed without warning and started again on the same data directory. */
const test = suite('dev after a crash');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cloudpods-dev-crash-'));
chmodSync(dataDir, 0o755);
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'warn', CLOUDPODS_DATA_DIR: dataDir,
  CLOUDPODS_PORT: '0' };
const running: ChildProcess[] = [];

async function startDev(): Promise<{ child: ChildProcess; dev: DevFile }> {
  // Its own process group, so that whatever a failed run leaves (its PostgreSQL, pdns_server) can be ended with it.
  const { child } = await startDevProcess(env, { detached: true });
  running.push(child);
  return { child, dev: JSON.parse(readFileSync(path.join(dataDir, 'dev.json'), 'utf8')) as DevFile };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** The simulator dev runs, reached as an operator would reach the cluster, with what dev.json says about it. */
function simulator(dev: DevFile): ProxmoxClient {
  const info = dev.proxmox!;
  return new ProxmoxClient({
    api: new ProxmoxApi({ transport: createHttpsTransport({ url: info.url, trust: { fingerprint: info.tlsFingerprint! } }),
      tokenId: info.tokenId!, tokenSecret: info.tokenSecret!, perNodeConcurrency: 4, perStorageConcurrency: 2, requestTimeoutMs: 10_000 }),
    snippets: noSnippetStore,
  });
}

async function cloneTasks(client: ProxmoxClient): Promise<string[]> {
  const upids: string[] = [];
  for (const node of await client.nodes()) {
    const tasks = await client.api.call<Array<{ upid: string }>>('GET', `/nodes/${node.node}/tasks`,
      { source: 'all', typefilter: 'qmclone', limit: 500 });
    upids.push(...tasks.map((task) => task.upid));
  }
  return upids.sort();
}

function api(dev: DevFile) {
  return async (method: string, url: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${dev.apiUrl}${url}`, {
      method, headers: { authorization: `Bearer ${dev.tenantToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return response.json();
  };
}

function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test.after(async () => {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone: nothing was left running
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('after SIGKILL, dev finds its pod\'s VM again: same VMID, the volume still attached, no second clone', async () => {
  const first = await startDev();
  const call = api(first.dev);
  const ordered = await call('POST', '/api/cloud-pods',
    { name: 'web-1', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 });
  assert.ok(ordered.pod, JSON.stringify(ordered));
  const podUrl = `/api/cloud-pods/${ordered.pod.id}`;
  const active = (await waitFor('the pod to become active', () => call('GET', podUrl),
    (p) => p.pod?.status.phase === 'active', { timeoutMs: 90_000 })).pod;
  const created = await call('POST', `${podUrl}/volumes`, { name: 'data', size_gb: 5 });
  assert.ok(created.volume, JSON.stringify(created));
  const volumeUrl = `${podUrl}/volumes/${created.volume.id}`;
  const attached = (await waitFor('the volume to be attached', () => call('GET', volumeUrl),
    (v) => v.volume?.status.phase === 'attached', { timeoutMs: 60_000 })).volume;
  const before = simulator(first.dev);
  const clonesBefore = await cloneTasks(before);
  await before.close();
  assert.is(clonesBefore.length, 1, 'one clone made the pod\'s VM');
  // Saving is debounced: wait until the simulator has written the attached disk, as a crash after that point would.
  const stateFile = path.join(dataDir, 'proxmox', 'state.json');
  await waitFor('the simulator state to hold the attached disk', () => readSimState(stateFile),
    (state) => state?.vms.some((vm) => vm.vmid === active.status.vmid
      && (vm.config[attached.status.slot] ?? '').startsWith(attached.status.proxmox_volume_id)) ?? false);
  const postmaster = Number(readFileSync(path.join(dataDir, 'postgres', 'cluster', 'postmaster.pid'), 'utf8').split('\n')[0]);

  first.child.kill('SIGKILL');
  await exited(first.child);
  assert.ok(isRunning(postmaster), 'the embedded PostgreSQL outlives the killed dev');

  const second = await startDev();
  assert.not.ok(isRunning(postmaster), 'the PostgreSQL the killed dev left behind was shut down');
  const again = api(second.dev);
  // A spec change makes the pod controller look at the VM now rather than at its next resync.
  const changed = await again('PATCH', podUrl, { memory_mb: 2048 });
  assert.is(changed.pod?.spec.memory_mb, 2048, JSON.stringify(changed));
  const converged = (await waitFor('the pod to converge on the change', () => again('GET', podUrl),
    (p) => p.pod?.status.phase === 'active' && p.pod.status.observed_generation === p.pod.status.generation,
    { timeoutMs: 90_000 })).pod;
  assert.equal([converged.status.vmid, converged.status.node], [active.status.vmid, active.status.node], 'the same VM');

  const client = simulator(second.dev);
  const config = await client.getConfig(converged.status.node, converged.status.vmid);
  assert.is(String(config.memory), '2048', 'the change went to the VM that survived');
  assert.ok(String(config[attached.status.slot] ?? '').startsWith(attached.status.proxmox_volume_id),
    `${attached.status.slot} still holds ${attached.status.proxmox_volume_id}: ${JSON.stringify(config)}`);
  assert.equal(await cloneTasks(client), clonesBefore, 'the task list survived, and nothing was cloned again');
  await client.close();
  const volume = (await again('GET', volumeUrl)).volume;
  assert.equal([volume.status.phase, volume.status.proxmox_volume_id], ['attached', attached.status.proxmox_volume_id]);

  second.child.kill('SIGTERM');
  assert.is(await exited(second.child), 0, 'SIGTERM stops dev cleanly');
});

test.run();
