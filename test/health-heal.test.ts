import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planHeals, type HealCandidate } from '../controllers/health/heal-plan.ts';
import { aToken } from './support/fixtures.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { waitFor } from './support/wait.ts';

/**
 * Auto-heal through the simulator: a failing pod repaired after the threshold with the least invasive action,
 * audited and counted; nothing repaired when disabled; the per-pod bound gives the pod up until an admin heals it.
 * Each test runs cycles at once through the health controller rather than waiting for the interval.
 */
const test = suite('auto-heal');
let platform: Platform;
let admin: string;
const pods: Array<{ id: string; vmid: number; node: string }> = [];
const actor = { type: 'system', id: 'test' } as const;

test.before(async () => {
  platform = await startPlatform({ transport: 'https' });
  admin = (await aToken(platform.database.db, { admin: true,
    permissions: ['cloudpods.view', 'cloudpods.manage', 'health.view'] })).token;
  const created = await Promise.all(['heal-1', 'heal-2', 'heal-3', 'heal-4'].map((name) => platform.app.request('POST',
    '/api/cloud-pods', { token: platform.token,
      body: { name, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } })));
  for (const response of created) {
    assert.is(response.status, 202, JSON.stringify(response.body));
    const active = await waitForPod(platform, response.body.pod.id, 'active', (p) => p?.status.phase === 'active'
      && p.status.ip_addresses.length > 0);
    pods.push({ id: active.id, vmid: active.status.vmid, node: active.status.node });
  }
  await settings({ 'cloudpods.auto_heal.failure_threshold': 2 });
});
test.after(async () => { await platform?.stop(); });

const settings = (changes: Record<string, unknown>) => platform.app.system.settings.update(changes, actor);
const faults = () => platform.sim.sim.faults;
const vm = (vmid: number) => platform.sim.sim.cluster.vms.get(vmid)!;
const cycle = () => platform.app.system.health!.checkFleet();
const shown = async (id: string) => (await platform.app.request('GET', `/api/cloud-pods/${id}`, { token: platform.token })).body.pod;
const healthyOf = async (id: string) => (await shown(id)).status.conditions.find((c: any) => c.type === 'Healthy');
const heals = (id: string) => platform.database.db.selectFrom('cloud_pod_audit').selectAll().where('pod_id', '=', id)
  .where('category', '=', 'health').orderBy('id').execute();
/** The pod controller has cleared the heal's task and the pod is settled again. */
const settled = (id: string) => waitFor(`pod ${id} settled after its heal`, () => platform.database.db
  .selectFrom('cloud_pods').select(['task_upid', 'conditions', 'generation']).where('id', '=', id).executeTakeFirstOrThrow(),
(p) => p.task_upid === null && p.conditions.some((c) => c.type === 'Ready' && c.status === 'True'
  && c.observedGeneration === p.generation));

/**
 * Cycles until the pod is healthy, once its guest has booted: cycles back to back within the boot would count the
 * agent's silence as failures (the interval times the threshold is meant to outlast a boot).
 */
async function becomesHealthy(id: string, vmid: number): Promise<void> {
  await waitFor(`the guest agent of VM ${vmid} booted`, () => vm(vmid).agentReadyAt, (at) => at !== undefined && at <= Date.now());
  await cycle();
  assert.is((await healthyOf(id)).status, 'True');
}

test('a VM stopped out of band is started after the threshold, audited, counted on the dashboard, healthy again', async () => {
  const { id, vmid } = pods[0]!;
  faults().stopVmOutOfBand(vmid);
  await cycle();
  assert.is((await heals(id)).length, 0, 'one failure: below the threshold of 2');
  await cycle();
  const [audit] = await heals(id);
  assert.equal([audit?.action, audit?.actor_type, audit?.actor_id], ['auto_heal.start', 'controller', 'health']);
  assert.equal((audit!.details as any).failures, { reason: 'VMStopped', message: `VM ${vmid} is stopped, the pod is desired running`,
    consecutive: 2 });
  await settled(id);
  assert.ok(vm(vmid).running, 'the VM runs again');
  // Its guest agent answers once it has booted (until then a check fails, which the threshold absorbs).
  await becomesHealthy(id, vmid);
  assert.is((await shown(id)).status.health.failures, 0);
  const overview = await platform.app.request('GET', '/api/cloud-pods/admin/overview', { token: admin });
  assert.is(overview.body.health.autoHealTriggeredLast24h, 1);
  const metrics = await platform.app.system.metrics.registry.getSingleMetricAsString('cloudpods_auto_heal_total');
  assert.match(metrics, /cloudpods_auto_heal_total\{action="start",result="started"\} 1/);
});

test('a paused VM is resumed', async () => {
  const { id, vmid } = pods[1]!;
  faults().pauseVmOutOfBand(vmid);
  await cycle();
  await cycle();
  assert.equal((await heals(id)).map((h) => h.action), ['auto_heal.resume']);
  await settled(id);
  assert.not.ok(vm(vmid).paused);
});

test('a guest agent that hangs: a clean reboot first, then a reset', async () => {
  const { id, vmid } = pods[2]!;
  faults().setAgentHung(vmid, true);
  await cycle();
  await cycle();
  assert.equal((await heals(id)).map((h) => h.action), ['auto_heal.reboot']);
  await settled(id);
  assert.ok(vm(vmid).agentHung, 'the reboot did not help: the guest never answered it');
  await cycle();
  await cycle();
  assert.equal((await heals(id)).map((h) => h.action), ['auto_heal.reboot', 'auto_heal.reset']);
  await settled(id);
  await becomesHealthy(id, vmid);
});

test('auto-heal disabled: nothing is repaired and the pod shows why', async () => {
  const { id, vmid } = pods[3]!;
  await settings({ 'cloudpods.auto_heal.enabled': false });
  try {
    faults().stopVmOutOfBand(vmid);
    for (let i = 0; i < 3; i++) await cycle();
    assert.is((await heals(id)).length, 0);
    assert.not.ok(vm(vmid).running);
    const healthy = await healthyOf(id);
    assert.equal([healthy.status, healthy.reason, (await shown(id)).status.health.failures], ['False', 'VMStopped', 3]);
  } finally {
    // The setting is read every cycle: enabling it heals at the next one.
    await settings({ 'cloudpods.auto_heal.enabled': true });
  }
  await cycle();
  assert.equal((await heals(id)).map((h) => h.action), ['auto_heal.start']);
  await settled(id);
});

test('past the per-pod bound the pod is given up (error, HealGivenUp) until an admin heals it', async () => {
  const { id, vmid } = pods[3]!;
  await settings({ 'cloudpods.auto_heal.max_per_pod_per_hour': 1 });
  faults().stopVmOutOfBand(vmid);
  await cycle();
  await cycle();
  assert.equal((await heals(id)).map((h) => h.action), ['auto_heal.start', 'heal.given_up'], 'one heal this hour already');
  const givenUp = await waitForPod(platform, id, 'error', (p) => p.status.phase === 'error');
  const ready = givenUp.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal([ready.status, ready.reason], ['False', 'HealGivenUp']);
  assert.not.ok(vm(vmid).running, 'nobody starts it: neither health nor the pod controller');
  await cycle();
  assert.is((await heals(id)).length, 2, 'nothing more while given up');

  const tenantTry = await platform.app.request('POST', `/api/cloud-pods/${id}/actions/heal`, { token: platform.token });
  assert.is(tenantTry.status, 403, 'an admin\'s call');
  const healed = await platform.app.request('POST', `/api/cloud-pods/${id}/actions/heal`, { token: admin });
  assert.is(healed.status, 202, JSON.stringify(healed.body));
  await waitForPod(platform, id, 'active again', (p) => p.status.phase === 'active');
  await cycle();
  await cycle();
  assert.equal((await heals(id)).map((h) => h.action), ['auto_heal.start', 'heal.given_up', 'heal.requested', 'auto_heal.start']);
  await settled(id);
  assert.ok(vm(vmid).running);
});

test('the fleet bound, through the simulator: 20 pods stopped at once are healed at most max_concurrent a cycle', async () => {
  await settings({ 'cloudpods.auto_heal.max_concurrent': 5, 'cloudpods.auto_heal.failure_threshold': 1 });
  const created = await Promise.all(Array.from({ length: 20 }, (_, i) => platform.app.request('POST', '/api/cloud-pods',
    { token: platform.token, body: { name: `fleet-${i}`, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 512, disk_gb: 10 } })));
  const fleet: Array<{ id: string; vmid: number }> = [];
  for (const response of created) {
    assert.is(response.status, 202, JSON.stringify(response.body));
    const active = await waitForPod(platform, response.body.pod.id, 'active', (p) => p?.status.phase === 'active'
      && p.status.ip_addresses.length > 0, 60_000);
    fleet.push({ id: active.id, vmid: active.status.vmid });
  }
  const { db } = platform.database;
  const started = async () => (await db.selectFrom('cloud_pod_audit').select('pod_id').where('action', '=', 'auto_heal.start')
    .where('pod_id', 'in', fleet.map((p) => p.id)).execute()).length;
  for (const pod of fleet) faults().stopVmOutOfBand(pod.vmid);
  await cycle();
  assert.is(await started(), 5, 'five heals at once, not twenty');
  assert.ok(fleet.filter((p) => !vm(p.vmid).running).length >= 15, 'the other fifteen wait for a later cycle');
  let previous = 5;
  await waitFor('every pod of the fleet running again', async () => {
    await cycle();
    const now = await started();
    assert.ok(now - previous <= 5, `at most five more a cycle: ${now - previous}`);
    previous = now;
    return fleet.filter((p) => vm(p.vmid).running).length;
  }, (running) => running === 20, { timeoutMs: 30_000 });
  assert.is(await started(), 20, 'each pod healed once');
});

test('the fleet bound: of 20 pods failing at once, at most max_concurrent are healed, the rest wait', () => {
  const failing: HealCandidate[] = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, reason: 'VMStopped', failures: 3 + (i % 4),
    healsLastHour: [] }));
  const decisions = planHeals(failing, { threshold: 3, maxPerPodPerHour: 3, fleetRoom: 5 - 2 });
  assert.is(decisions.filter((d) => d.kind === 'heal').length, 3, 'five at once, two already in flight');
  assert.is(decisions.filter((d) => d.kind === 'deferred').length, 17);
  assert.ok(decisions.slice(0, 3).every((d) => failing.find((p) => p.id === d.id)!.failures === 6), 'the longest failing first');
  assert.equal(planHeals([{ id: 'x', reason: 'NodeOffline', failures: 9, healsLastHour: [] }],
    { threshold: 3, maxPerPodPerHour: 3, fleetRoom: 5 }), [], 'no action fits an offline node');
});

test.run();
