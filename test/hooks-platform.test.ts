import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { systemActor } from '../src/observability/audit.ts';
import { aToken } from './support/fixtures.ts';
import { aHook, lastDelivery } from './support/hook-engine.ts';
import { startHookReceiver, type HookReceiver } from './support/hook-receiver.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { waitFor } from './support/wait.ts';

/** Hooks in the whole system: a pod ordered through the API tells the tenant's hooks when it is active. */
const test = suite('lifecycle hooks end to end');
let platform: Platform;
let receiver: HookReceiver;
let failing: HookReceiver;

test.before(async () => {
  platform = await startPlatform();
  await platform.app.system.settings.update({ 'cloudpods.webhooks.allowed_networks': ['127.0.0.0/8'],
    'cloudpods.webhooks.initial_retry_delay_seconds': 1 }, systemActor('test'));
  receiver = await startHookReceiver();
  failing = await startHookReceiver({ answer: () => ({ status: 500, body: 'receiver is down' }) });
});

test.after(async () => {
  await platform?.stop();
  await receiver?.close();
  await failing?.close();
});

test('a pod becoming active gets one signed pod.post_create delivery; a failing hook does not hold the pod up', async () => {
  const { database, tenant } = platform;
  const hook = await aHook(database, { tenant_id: tenant.id, target: `${receiver.origin}/cloudpods`, event: 'pod.post_create' });
  receiver.secret = hook.signing_secret;
  const broken = await aHook(database, { tenant_id: tenant.id, target: `${failing.origin}/`, event: 'pod.post_create' });

  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token,
    body: { name: 'hooked-1', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } });
  assert.is(created.status, 202, JSON.stringify(created.body));
  const podId = created.body.pod.id;
  const pod = await waitForPod(platform, podId, 'active', (p) => p?.status.phase === 'active');

  const [delivery] = await waitFor('the post_create delivery', () => receiver.received, (r) => r.length >= 1);
  assert.equal([delivery!.method, delivery!.path, delivery!.verified], ['POST', '/cloudpods', true]);
  const envelope = JSON.parse(delivery!.body);
  assert.equal([envelope.event, envelope.pod_id, envelope.tenant_id], ['pod.post_create', podId, tenant.id]);
  assert.equal(envelope.data, { name: 'hooked-1', vmid: pod.status.vmid, node: pod.status.node,
    ip_addresses: pod.status.ip_addresses });
  assert.is(envelope.id, delivery!.headers['webhook-id']);
  const delivered = await waitFor('LastDelivery', () => lastDelivery(database, hook.id), (c) => c?.status === 'True');
  assert.is(delivered!.reason, 'Delivered');

  const failed = await waitFor('the failing hook\'s LastDelivery', () => lastDelivery(database, broken.id),
    (c) => c !== undefined);
  assert.equal([failed!.status, failed!.reason], ['False', 'DeliveryFailed']);
  assert.match(failed!.message, /pod\.post_create delivery .* failed on attempt \d+ of 10: HTTP 500: receiver is down/);
  assert.ok(failing.received.length >= 1);

  const now = await waitForPod(platform, podId, 'still active', (p) => p?.status.phase === 'active');
  assert.is(now.status.conditions.find((c: any) => c.type === 'Ready')?.status, 'True');
  assert.is(receiver.received.length, 1, 'one delivery, however often the other hook is retried');
});

const readyOf = (pod: any) => pod?.status.conditions.find((c: any) => c.type === 'Ready');
/** The simulator's VMs that carry this pod's clone marker. */
const vmsOf = (podId: string) => [...platform.sim.sim.cluster.vms.values()]
  .filter((vm) => String(vm.config.description ?? '').includes(`pod=${podId}`));

async function orderPod(name: string): Promise<string> {
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token,
    body: { name, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } });
  assert.is(created.status, 202, JSON.stringify(created.body));
  return created.body.pod.id;
}

async function deletePod(podId: string): Promise<void> {
  const deleted = await platform.app.request('DELETE', `/api/cloud-pods/${podId}`, { token: platform.token });
  assert.is(deleted.status, 202, JSON.stringify(deleted.body));
}

/** A receiver that refuses (HTTP 500) until `open` is set. */
async function gatekeeper() {
  const state = { open: false };
  const server = await startHookReceiver({ answer: () => (state.open ? { status: 204 } : { status: 500, body: 'not yet' }) });
  return Object.assign(server, { state });
}

/** A blocking hook of the tenant for `event`, removed after `body` so it holds no other test's pods. */
async function withBlockingHook(event: 'pod.pre_create' | 'pod.pre_destroy', target: string,
  body: (hook: { id: string; name: string }) => Promise<void>, settings: Record<string, unknown> = {}): Promise<void> {
  const { database, tenant } = platform;
  await platform.app.system.settings.update(settings, systemActor('test'));
  const hook = await aHook(database, { tenant_id: tenant.id, target, event, config: { blocking: true } });
  try {
    await body(hook);
  } finally {
    await database.db.deleteFrom('cloud_pod_hooks').where('id', '=', hook.id).execute();
    await platform.app.system.settings.update(Object.fromEntries(Object.keys(settings).map((name) => [name, null])),
      systemActor('test'));
  }
}

test('a blocking pod.pre_create hook holds the pod, with no VM, until its delivery succeeds', async () => {
  const receiver = await gatekeeper();
  try {
    await withBlockingHook('pod.pre_create', `${receiver.origin}/`, async (hook) => {
      const podId = await orderPod('gated-1');
      const waiting = await waitForPod(platform, podId, 'waiting for its hook',
        (p) => readyOf(p)?.reason === 'WaitingForHooks' && receiver.received.length >= 1);
      assert.match(readyOf(waiting).message, `pod.pre_create delivery of blocking hook ${hook.name}`);
      assert.equal([waiting.status.phase, waiting.status.vmid, vmsOf(podId).length], ['pending', null, 0], 'nothing cloned');

      receiver.state.open = true;
      const active = await waitForPod(platform, podId, 'active once delivered', (p) => p?.status.phase === 'active');
      assert.is(vmsOf(podId).length, 1);
      assert.is(vmsOf(podId)[0]!.vmid, active.status.vmid);
      assert.is(JSON.parse(receiver.received.at(-1)!.body).pod_id, podId);
    });
  } finally {
    await receiver.close();
  }
});

test('a blocking pod.pre_create hook given up: HookFailed naming it, no VM; the pod can still be deleted', async () => {
  await withBlockingHook('pod.pre_create', `${failing.origin}/`, async (hook) => {
    const podId = await orderPod('refused-1');
    const refused = await waitForPod(platform, podId, 'refused', (p) => readyOf(p)?.reason === 'HookFailed');
    assert.is(refused.status.phase, 'error');
    assert.match(readyOf(refused).message,
      `blocking pod.pre_create hook ${hook.name} failed: HTTP 500: receiver is down; the pod is not provisioned`);
    assert.is(refused.status.conditions.find((c: any) => c.type === 'HookFailed')?.status, 'True');
    assert.equal([refused.status.vmid, vmsOf(podId).length], [null, 0]);

    await deletePod(podId);
    await waitForPod(platform, podId, 'gone', (p) => p === null);
  }, { 'cloudpods.webhooks.max_attempts': 2 });
});

test('a blocking pod.pre_destroy hook keeps the VM and its volumes while pending; they are destroyed once delivered', async () => {
  const podId = await orderPod('teardown-1');
  const { status: { vmid } } = await waitForPod(platform, podId, 'active', (p) => p?.status.phase === 'active');
  const volumes = `/api/cloud-pods/${podId}/volumes`;
  const ordered = await platform.app.request('POST', volumes, { token: platform.token, body: { name: 'data', size_gb: 1 } });
  assert.is(ordered.status, 202, JSON.stringify(ordered.body));
  const volume = await waitFor('the volume attached', async () => (await platform.app.request('GET',
    `${volumes}/${ordered.body.volume.id}`, { token: platform.token })).body.volume, (v) => v?.status.phase === 'attached');
  const receiver = await gatekeeper();
  try {
    await withBlockingHook('pod.pre_destroy', `${receiver.origin}/`, async () => {
      await deletePod(podId);
      const waiting = await waitForPod(platform, podId, 'waiting for its hook',
        (p) => readyOf(p)?.reason === 'WaitingForHooks' && receiver.received.length >= 1);
      assert.is(waiting.status.phase, 'deleting');
      assert.ok(platform.sim.sim.cluster.vms.get(vmid)?.running, 'the VM is still there, running');
      const kept = await platform.app.request('GET', `${volumes}/${volume.id}`, { token: platform.token });
      assert.is(kept.body.volume.status.phase, 'attached', 'the volume is not torn down either');
      assert.ok(platform.sim.sim.cluster.volumes.has(volume.status.proxmox_volume_id));
      const resize = await platform.app.request('POST', `${volumes}/${volume.id}/resize`, { token: platform.token,
        body: { size_gb: 2 } });
      assert.equal([resize.status, resize.body.error?.message], [409, 'volume data is being deleted with its pod']);

      receiver.state.open = true;
      await waitForPod(platform, podId, 'gone once delivered', (p) => p === null);
      assert.is(platform.sim.sim.cluster.vms.get(vmid), undefined, 'the VM is destroyed');
      assert.not.ok(platform.sim.sim.cluster.volumes.has(volume.status.proxmox_volume_id), 'and the volume');
    });
  } finally {
    await receiver.close();
  }
});

test('a blocking pod.pre_destroy hook given up keeps the VM until an admin retries the delivery', async () => {
  const podId = await orderPod('teardown-2');
  const { status: { vmid } } = await waitForPod(platform, podId, 'active', (p) => p?.status.phase === 'active');
  const receiver = await gatekeeper();
  const admin = (await aToken(platform.database.db, { admin: true })).token;
  try {
    await withBlockingHook('pod.pre_destroy', `${receiver.origin}/`, async (hook) => {
      await deletePod(podId);
      const held = await waitForPod(platform, podId, 'held', (p) => readyOf(p)?.reason === 'HookFailed');
      assert.is(held.status.phase, 'deleting');
      const message: string = readyOf(held).message;
      assert.match(message, `blocking pod.pre_destroy hook ${hook.name} failed: HTTP 500: not yet; the VM is kept`);
      const jobId = /POST \/api\/admin\/jobs\/(\d+)\/retry/.exec(message)?.[1];
      assert.ok(jobId, message);
      assert.ok(platform.sim.sim.cluster.vms.get(vmid), 'the VM is kept');

      receiver.state.open = true;
      const retried = await platform.app.request('POST', `/api/admin/jobs/${jobId}/retry`, { token: admin });
      assert.is(retried.status, 200, JSON.stringify(retried.body));
      await waitForPod(platform, podId, 'gone once delivered', (p) => p === null);
      assert.is(platform.sim.sim.cluster.vms.get(vmid), undefined, 'the VM is destroyed');
    }, { 'cloudpods.webhooks.max_attempts': 1 });
  } finally {
    await receiver.close();
  }
});

test('hooks that do not block never delay: a pod is created and deleted while their deliveries fail', async () => {
  const { database, tenant } = platform;
  const hooks = await Promise.all((['pod.pre_create', 'pod.pre_destroy'] as const).map((event) =>
    aHook(database, { tenant_id: tenant.id, target: `${failing.origin}/`, event })));
  try {
    const podId = await orderPod('unblocked-1');
    await waitForPod(platform, podId, 'active', (p) => p?.status.phase === 'active');
    await deletePod(podId);
    await waitForPod(platform, podId, 'gone', (p) => p === null);
    const deliveries = await database.db.selectFrom('jobs').select('status').where('type', '=', 'hook.execute')
      .where('payload', '@>', JSON.stringify({ event: { pod_id: podId } }) as never)
      .where(sql<string>`payload->>'hook_id'`, 'in', hooks.map((h) => h.id)).execute();
    assert.is(deliveries.length, 2);
    assert.ok(deliveries.every((d) => d.status !== 'completed'), 'neither delivery has succeeded');
  } finally {
    await database.db.deleteFrom('cloud_pod_hooks').where('id', 'in', hooks.map((h) => h.id)).execute();
  }
});

test.run();
