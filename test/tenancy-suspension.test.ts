import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { anotherTenant, startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { aToken } from './support/fixtures.ts';

/**
 * Suspension as a hosting panel does it, converged on the simulated cluster: pods off, and back on when reinstated.
 * Suspension acts on all of a tenant's pods, so each test has a tenant of its own.
 */
const test = suite('tenant suspension');
let platform: Platform;
let admin: string;

test.before(async () => {
  platform = await startPlatform();
  admin = (await aToken(platform.database.db, { admin: true })).token;
});
test.after(async () => { await platform?.stop(); });

const order = (name: string) => ({ name, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 });
const ready = (pod: any) => pod?.status.conditions.find((c: any) => c.type === 'Ready');
const settled = (phase: string) => (pod: any) => pod.status.phase === phase && ready(pod)?.status === 'True'
  && pod.status.observed_generation === pod.status.generation;
const running = (pod: any) => platform.sim.sim.cluster.vms.get(pod.status.vmid)?.running;
const auditOf = (action: string, tenantId: string) => platform.database.db.selectFrom('cloud_pod_audit')
  .select(['action', 'actor_type', 'pod_id', 'details']).where('action', '=', action).where('tenant_id', '=', tenantId)
  .orderBy('id').execute();

/** A tenant of its own with a manage token; its pods are read and waited for through that token. */
async function aCustomer() {
  const { tenant, token } = await anotherTenant(platform);
  const podOf = async (id: string) => (await platform.app.request('GET', `/api/cloud-pods/${id}`, { token })).body.pod;
  const waitForIt = (id: string, what: string, accept: (pod: any) => boolean) =>
    waitForPod({ ...platform, token }, id, what, accept);
  return { tenant, token, podOf, waitForPod: waitForIt };
}

test('suspending stops the running pods and records which; reinstating starts exactly those, all audited', async () => {
  const { tenant, token, podOf, waitForPod } = await aCustomer();
  const ids: string[] = [];
  for (const name of ['web-1', 'web-2', 'kept-off']) {
    const created = await platform.app.request('POST', '/api/cloud-pods', { token, body: order(name) });
    assert.is(created.status, 202, JSON.stringify(created.body));
    ids.push(created.body.pod.id);
  }
  const [web1, web2, keptOff] = ids as [string, string, string];
  for (const id of ids) await waitForPod(id, 'active', settled('active'));
  const stop = await platform.app.request('PATCH', `/api/cloud-pods/${keptOff}`, { token,
    body: { power_state: 'stopped' } });
  assert.is(stop.status, 202);
  await waitForPod(keptOff, 'stopped by its tenant', settled('stopped'));

  const suspended = await platform.app.request('POST', `/api/cloud-pods/tenants/${tenant.slug}/suspend`, { token: admin });
  assert.is(suspended.body.tenant.status, 'suspended');
  for (const id of [web1, web2]) {
    const pod = await waitForPod(id, 'stopped by the suspension', settled('stopped'));
    assert.is(pod.spec.power_state, 'stopped');
    assert.is(running(pod), false, 'the VM is off');
  }
  const [suspension] = await auditOf('tenant.suspended', tenant.id);
  assert.equal(new Set((suspension!.details as any).stopped_pods), new Set([web1, web2]));
  const start = await platform.app.request('PATCH', `/api/cloud-pods/${web1}`, { token,
    body: { power_state: 'running' } });
  assert.is(start.status, 409, 'a suspended tenant starts nothing');
  assert.is(start.body.error.code, 'tenant_suspended');

  const reinstated = await platform.app.request('POST', `/api/cloud-pods/tenants/${tenant.slug}/unsuspend`, { token: admin });
  assert.is(reinstated.body.tenant.status, 'active');
  for (const id of [web1, web2]) {
    const pod = await waitForPod(id, 'started again', settled('active'));
    assert.is(running(pod), true, 'the VM runs again');
  }
  const off = await podOf(keptOff);
  assert.equal([off.spec.power_state, off.status.phase, running(off)], ['stopped', 'stopped', false],
    'the pod its tenant had stopped stays stopped');
  const [reinstatement] = await auditOf('tenant.reinstated', tenant.id);
  assert.equal(new Set((reinstatement!.details as any).started_pods), new Set([web1, web2]));
  const podChanges = (await auditOf('pod.updated', tenant.id)).filter((a) => (a.details as any).reason);
  assert.equal(podChanges.map((a) => [a.pod_id, a.actor_type, (a.details as any).reason,
    (a.details as any).changes.power_state.new]).sort(), [
    [web1, 'token', 'tenant.reinstated', 'running'], [web1, 'token', 'tenant.suspended', 'stopped'],
    [web2, 'token', 'tenant.reinstated', 'running'], [web2, 'token', 'tenant.suspended', 'stopped'],
  ].sort(), 'each pod\'s power change is audited with the admin who suspended or reinstated');
});

test('with cloudpods.suspension.power_off_pods false, suspension leaves the pods running', async () => {
  const { tenant, token, podOf, waitForPod } = await aCustomer();
  await platform.app.system.settings.update({ 'cloudpods.suspension.power_off_pods': false }, { type: 'system', id: 'test' });
  try {
    const created = await platform.app.request('POST', '/api/cloud-pods', { token, body: order('web-3') });
    const pod = await waitForPod(created.body.pod.id, 'active', settled('active'));
    assert.is((await platform.app.request('POST', `/api/cloud-pods/tenants/${tenant.slug}/suspend`, { token: admin })).status, 200);
    const after = await podOf(pod.id);
    assert.equal([after.spec.power_state, after.status.generation, running(after)], ['running', pod.status.generation, true]);
    assert.equal((await auditOf('tenant.suspended', tenant.id)).at(-1)!.details, { slug: tenant.slug, stopped_pods: [] });
  } finally {
    await platform.app.request('POST', `/api/cloud-pods/tenants/${tenant.slug}/unsuspend`, { token: admin });
    await platform.app.system.settings.update({ 'cloudpods.suspension.power_off_pods': null }, { type: 'system', id: 'test' });
  }
});

test.run();
