import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { volumeController } from '../controllers/volume/register.ts';
import { volumeSerial } from '../controllers/volume/disks.ts';
import { createLogger } from '../src/observability/logger.ts';
import { buildController, type Controller } from '../src/runtime/kit.ts';
import { insertVolume } from '../src/volumes/store.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { recordingClient, type Recording } from './support/recording-client.ts';
import type { ProxmoxClient } from '../src/proxmox/client.ts';

/**
 * The volume controller's exact Proxmox calls in each scenario, on a recording client in front of the simulator.
 * The rows are written directly (no reconcile is enqueued), so only this suite's controller acts on them.
 */
const test = suite('volume controller scenarios: the exact Proxmox calls');
let platform: Platform;
let recorder: Recording<ProxmoxClient>;
let controller: Controller;
let pod: { id: string; tenantId: string; vmid: number; node: string };
const context = { signal: new AbortController().signal, attempt: 1 };

test.before(async () => {
  platform = await startPlatform({ transport: 'https' });
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token,
    body: { name: 'scenario', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } });
  const active = await waitForPod(platform, created.body.pod.id, 'active', (p) => p?.status.phase === 'active');
  pod = { id: active.id, tenantId: platform.tenant.id, vmid: active.status.vmid, node: active.status.node };
  recorder = recordingClient(platform.sim.client('https'));
  controller = buildController({ db: platform.database.db, logger: createLogger({ level: 'silent' }) },
    volumeController({ db: platform.database.db, proxmox: recorder.client }, { taskPollMs: 20 }));
});
test.after(async () => { await platform?.stop(); });

const volumeRow = (id: string) => platform.database.db.selectFrom('cloud_pod_volumes').selectAll().where('id', '=', id)
  .executeTakeFirstOrThrow();

/** Runs the controller until it asks for nothing, as the engine would (a requeue is run again at once). */
async function reconcileUntilDone(id: string): Promise<string[][]> {
  const runs: string[][] = [];
  for (let run = 0; run < 20; run++) {
    const result = await controller.reconcile(id, context);
    runs.push(recorder.take());
    if (result.requeueAfterMs === null) return runs;
    await platform.sim.client('https').waitForTask((await volumeRow(id)).task_upid ?? '', { timeoutMs: 5_000 }).catch(() => {});
  }
  throw new Error(`volume ${id} still asked for more after 20 runs`);
}

test('a new volume: read, record the slot, allocate once; then see it attached and settle with no write', async () => {
  const { node, vmid } = pod;
  const volume = await insertVolume(platform.database.db, { tenant_id: pod.tenantId, pod_id: pod.id, name: 'data',
    size_gb: 5, storage_pool: 'local-lvm', attached: true });
  const runs = await reconcileUntilDone(volume.id);
  const observe = [`getConfig(${node}, ${vmid})`, `activeTasks(${node}, ${vmid})`, `storageStatus(${node}, local-lvm)`];
  const serial = volumeSerial(volume.id);
  assert.equal(runs[0], [...observe, ...observe,
    `updateConfig(${node}, ${vmid}, {"set":{"scsi1":"local-lvm:5,serial=${serial}"},"delete":[]})`],
  'slot recorded between two looks, then one allocation');
  assert.equal(runs.slice(1), [[`taskStatus(UPID)`, `getConfig(${node}, ${vmid})`, `getConfig(${node}, ${vmid})`]],
    'the task seen done (nothing else read), the disk adopted by its serial, then seen attached');
  const settled = await volumeRow(volume.id);
  assert.equal([settled.status, settled.slot, settled.observed_generation], ['attached', 'scsi1', settled.generation]);

  assert.equal(await controller.reconcile(volume.id, context), { requeueAfterMs: null });
  assert.equal(recorder.take(), [`getConfig(${node}, ${vmid})`], 'a settled volume costs one read and writes nothing');
});

test('a volume on a storage that is gone: one look, then terminal StorageUnavailable, and never looked at again', async () => {
  const { node, vmid } = pod;
  const volume = await insertVolume(platform.database.db, { tenant_id: pod.tenantId, pod_id: pod.id, name: 'nowhere',
    size_gb: 5, storage_pool: 'no-such-pool', attached: true, slot: 'scsi9' });
  const runs = await reconcileUntilDone(volume.id);
  assert.equal(runs, [[`getConfig(${node}, ${vmid})`, `activeTasks(${node}, ${vmid})`, `storageStatus(${node}, no-such-pool)`]]);
  const stalled = await volumeRow(volume.id);
  assert.equal([stalled.status, stalled.conditions.map((c) => [c.type, c.reason])],
    ['error', [['Ready', 'StorageUnavailable'], ['Stalled', 'StorageUnavailable']]]);
  assert.equal(await controller.reconcile(volume.id, context), { requeueAfterMs: null });
  assert.equal(recorder.take(), [], 'a stalled generation makes no call until its spec changes');
});

test.run();
