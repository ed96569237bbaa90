import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterView } from '../controllers/pod/cluster-view.ts';
import { podController } from '../controllers/pod/register.ts';
import { podsToLookAt } from '../controllers/pod/resync.ts';
import { createLogger } from '../src/observability/logger.ts';
import { buildController, type Controller } from '../src/runtime/kit.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { recordingClient, type Recording } from './support/recording-client.ts';
import type { ProxmoxClient } from '../src/proxmox/client.ts';

/**
 * The pod controller's exact Proxmox calls, on a recording client in front of the simulator. The platform's own
 * controller provisions the pods; this suite's controller then looks at them as a resync would.
 */
const test = suite('pod controller scenarios: the exact Proxmox calls');
let platform: Platform;
let recorder: Recording<ProxmoxClient>;
let controller: Controller;
const pods: Array<{ id: string; vmid: number; node: string }> = [];
const context = { signal: new AbortController().signal, attempt: 1 };

test.before(async () => {
  platform = await startPlatform({ transport: 'https' });
  for (const name of ['settled-1', 'settled-2', 'settled-3']) {
    const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token,
      body: { name, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } });
    assert.is(created.status, 202, JSON.stringify(created.body));
    const active = await waitForPod(platform, created.body.pod.id, 'active', (p) => p?.status.phase === 'active');
    pods.push({ id: active.id, vmid: active.status.vmid, node: active.status.node });
  }
  recorder = recordingClient(platform.sim.client('https'));
  controller = buildController({ db: platform.database.db, logger: createLogger({ level: 'silent' }) },
    podController({ db: platform.database.db, engine: platform.app.system.jobs, logger: createLogger({ level: 'silent' }),
      proxmox: recorder.client, quotas: platform.app.system.quotas }, new ClusterView(recorder.client),
    { vmids: { min: 1000, max: 1999 }, clonesPerNode: 3, taskPollMs: 50, dns: false }));
});
test.after(async () => { await platform?.stop(); });

const podRow = (id: string) => platform.database.db.selectFrom('cloud_pods').selectAll().where('id', '=', id)
  .executeTakeFirstOrThrow();

test('a resync of settled pods costs one cluster snapshot in all and writes nothing', async () => {
  const before = await Promise.all(pods.map((p) => podRow(p.id)));
  for (const pod of pods) assert.equal(await controller.reconcile(pod.id, context), { requeueAfterMs: null });
  assert.equal(recorder.take(), ['clusterResources()'], 'one shared look at the cluster, nothing per pod');
  for (const pod of pods) await controller.reconcile(pod.id, context);
  assert.equal(recorder.take(), [], 'within the snapshot\'s life a settled pod\'s resync makes no Proxmox call');
  const after = await Promise.all(pods.map((p) => podRow(p.id)));
  assert.equal(after.map((p) => p.updated_at.getTime()), before.map((p) => p.updated_at.getTime()), 'no status written');
});

test('the resync observes in bulk: settled pods are not enqueued, nor is a VM stopped behind CloudPods\' back (health\'s)', async () => {
  const view = new ClusterView(recorder.client);
  assert.equal(await podsToLookAt(platform.database.db, view), [], 'every pod settled and its VM as asked');
  assert.equal(recorder.take(), ['clusterResources()'], 'one Proxmox call for the whole fleet');
  const { id, vmid, node } = pods[1]!;
  await platform.sim.client('https').waitForTask(await platform.sim.client('https').stop(node, vmid));
  view.invalidate();
  assert.equal(await podsToLookAt(platform.database.db, view), [], 'a pod that ran for its generation is not restarted');
  recorder.take();
  assert.equal(await controller.reconcile(id, context), { requeueAfterMs: null });
  assert.equal(recorder.take().filter((c) => c !== 'clusterResources()'), [], 'its own reconcile does not start it either');
  assert.equal((await podRow(id)).status, 'active');
});

test('a VM stopped behind CloudPods\' back: seen in the snapshot, read directly once its spec is changed', async () => {
  const { id, vmid, node } = pods[0]!;
  await platform.sim.client('https').waitForTask(await platform.sim.client('https').stop(node, vmid));
  await platform.database.db.updateTable('cloud_pods').set((eb) => ({ generation: eb('generation', '+', 1) }))
    .where('id', '=', id).execute();
  recorder.take();
  const result = await controller.reconcile(id, context);
  const calls = recorder.take();
  // (The shared snapshot may still be fresh from the test before: whether it is taken again does not matter here.)
  assert.equal(calls.filter((c) => c !== 'clusterResources()').slice(0, 2),
    [`getConfig(${node}, ${vmid})`, `currentStatus(${node}, ${vmid})`], 'a changed generation reads the VM directly');
  assert.ok(calls.includes(`start(${node}, ${vmid})`), `the stopped VM is started: ${calls.join(', ')}`);
  assert.equal(result, { requeueAfterMs: null });
  const settled = await podRow(id);
  assert.equal([settled.status, settled.observed_generation, settled.task_upid], ['active', settled.generation, null]);
});

test.run();
