import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { systemActor } from '../src/observability/audit.ts';
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

test.run();
