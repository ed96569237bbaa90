import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { podKind } from '../src/pods/kind.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { aToken } from './support/fixtures.ts';
import { waitFor } from './support/wait.ts';

/**
 * The health controller through the simulator: every pod checked in one cycle (one bulk look at the cluster, the
 * guest agent pings), the Healthy condition as the API shows it, and the pod controller leaving a VM stopped out of
 * band alone.
 */
const test = suite('health checks');
let platform: Platform;
const pods: Array<{ id: string; vmid: number; node: string }> = [];

test.before(async () => {
  platform = await startPlatform({ transport: 'https' });
  const created = await Promise.all(['h-1', 'h-2', 'h-3', 'h-4', 'h-5'].map((name) => platform.app.request('POST',
    '/api/cloud-pods', { token: platform.token,
      body: { name, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } })));
  for (const response of created) {
    assert.is(response.status, 202, JSON.stringify(response.body));
    const active = await waitForPod(platform, response.body.pod.id, 'active',
      (p) => p?.status.phase === 'active' && p.status.ip_addresses.length > 0);
    pods.push({ id: active.id, vmid: active.status.vmid, node: active.status.node });
  }
});
test.after(async () => { await platform?.stop(); });

const faults = () => platform.sim.sim.faults;
const cycle = () => platform.app.system.health!.checkFleet();
const shown = async (id: string) => (await platform.app.request('GET', `/api/cloud-pods/${id}`, { token: platform.token })).body.pod;
const healthy = async (id: string) => {
  const pod = await shown(id);
  return { ...pod.status.conditions.find((c: any) => c.type === 'Healthy'), failures: pod.status.health?.failures };
};

test('a fleet of running pods: every pod Healthy=True after one cycle, with its last check time', async () => {
  const summary = await cycle();
  assert.equal([summary.checked, summary.healthy, summary.unhealthy], [5, 5, 0]);
  for (const pod of pods) {
    const seen = await shown(pod.id);
    const condition = seen.status.conditions.find((c: any) => c.type === 'Healthy');
    assert.equal([condition.status, condition.reason], ['True', 'Healthy']);
    assert.is(seen.status.health.failures, 0);
    assert.ok(Date.now() - new Date(seen.status.health.last_checked_at).getTime() < 10_000);
  }
});

test('a VM stopped out of band: Healthy=False VMStopped, counted each cycle; the pod controller does not start it', async () => {
  const { id, vmid } = pods[0]!;
  faults().stopVmOutOfBand(vmid);
  await cycle();
  assert.equal(pick(await healthy(id)), ['False', 'VMStopped', 1]);
  await cycle();
  assert.is((await healthy(id)).failures, 2, 'consecutive failures add up');
  // Its own reconcile (as a resync or any wake-up would run it) leaves the VM stopped: health's, not a restart.
  await podKind.enqueue(platform.app.system.jobs, platform.database.db, id);
  await waitFor('the pod\'s reconcile to end', () => platform.database.db.selectFrom('jobs').select('id')
    .where('key', '=', podKind.key(id)).where('status', 'in', ['pending', 'running']).executeTakeFirst(), (job) => !job);
  assert.not.ok(platform.sim.sim.cluster.vms.get(vmid)!.running, 'still stopped');
  assert.is((await shown(id)).status.phase, 'active', 'the spec was met; Healthy says what happened');
  const admin = (await aToken(platform.database.db, { admin: true, permissions: ['cloudpods.view', 'health.view'] })).token;
  const overview = await platform.app.request('GET', '/api/cloud-pods/admin/overview', { token: admin });
  assert.is(overview.body.health.unhealthyPods, 1, 'the dashboard counts it');
});

test('a paused VM is VMPaused; a guest agent that stops answering is GuestAgentUnresponsive', async () => {
  faults().pauseVmOutOfBand(pods[1]!.vmid);
  faults().setAgentHung(pods[2]!.vmid, true);
  await cycle();
  assert.equal(pick(await healthy(pods[1]!.id)), ['False', 'VMPaused', 1]);
  assert.equal(pick(await healthy(pods[2]!.id)), ['False', 'GuestAgentUnresponsive', 1]);
  faults().setAgentHung(pods[2]!.vmid, false);
  await cycle();
  assert.equal(pick(await healthy(pods[2]!.id)), ['True', 'Healthy', 0], 'a success clears the count');
});

test('a VM on a node that is offline is NodeOffline', async () => {
  const { id, node } = pods[3]!;
  faults().setNodeOnline(node, false);
  try {
    await cycle();
    assert.equal(pick(await healthy(id)), ['False', 'NodeOffline', 1]);
  } finally {
    faults().setNodeOnline(node, true);
  }
});

test('pods desired stopped, being changed or being deleted are not checked: Unknown, NotChecked, a new count', async () => {
  const { db } = platform.database;
  // pods[0] is unhealthy (stopped out of band): a spec change starts a new count and it is not checked meanwhile.
  await db.updateTable('cloud_pods').set((eb) => ({ generation: eb('generation', '+', 1) })).where('id', '=', pods[0]!.id)
    .execute();
  await db.updateTable('cloud_pods').set({ deletion_requested_at: sql`now()` }).where('id', '=', pods[1]!.id).execute();
  const summary = await cycle();
  assert.is(summary.checked, 3, 'only the three pods the pod controller is not working on');
  for (const pod of [pods[0]!, pods[1]!]) {
    const seen = await healthy(pod.id);
    assert.equal(pick(seen), ['Unknown', 'NotChecked', 0]);
  }
  assert.match((await healthy(pods[1]!.id)).message, /being deleted/);
});

test('the cycle runs as the pod.health.check job on the health queue and asks for the next one an interval later, read from the settings', async () => {
  const { db } = platform.database;
  await platform.app.system.settings.update({ 'cloudpods.health.check_interval_seconds': 10 }, { type: 'system', id: 'test' });
  const before = new Date();
  const cycleJobs = () => db.selectFrom('jobs').select(['id', 'status', 'scheduled_at']).where('queue', '=', 'health')
    .where('type', '=', 'pod.health.check').where('key', '=', 'pod.health.check:fleet');
  await cycleJobs().where('status', '=', 'pending').execute().then((jobs) =>
    jobs.length ? db.deleteFrom('jobs').where('id', 'in', jobs.map((j) => j.id)).execute() : undefined);
  await platform.app.system.jobs.enqueue(db, { queue: 'health', type: 'pod.health.check', key: 'pod.health.check:fleet' });
  const next = await waitFor('the next cycle to be asked for', () => cycleJobs().where('status', '=', 'pending').executeTakeFirst(),
    (job) => job !== undefined && job.scheduled_at.getTime() > before.getTime() + 5_000);
  assert.ok(next!.scheduled_at.getTime() <= Date.now() + 10_000, `about 10 s later: ${next!.scheduled_at.toISOString()}`);
  const checked = await db.selectFrom('cloud_pods').select('health_checked_at').where('id', '=', pods[4]!.id)
    .executeTakeFirstOrThrow();
  assert.ok(checked.health_checked_at! >= before, 'the job checked the fleet');
});

function pick(condition: any): [string, string, number] {
  return [condition.status, condition.reason, condition.failures];
}

test.run();
