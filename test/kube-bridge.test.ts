import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { anActiveCloudPod, cloudPod, podsPath, readyOf, startKubePlatform, type KubePlatform } from './support/kube.ts';
import { roomyQuota } from './support/platform.ts';
import { waitFor } from './support/wait.ts';

/** CloudPod resources through the bridge, end to end against the Proxmox simulator and the fake kube-apiserver. */
const test = suite('kube bridge');
let k: KubePlatform;
/** Active CloudPods applied together before the tests, one for each test that works on an active pod of its own. */
let pods: Record<'shown' | 'edited' | 'stopping' | 'doomed' | 'probed', any>;
test.before(async () => {
  k = await startKubePlatform();
  const names = ['shown', 'edited', 'stopping', 'doomed', 'probed'] as const;
  const applied = await Promise.all(names.map((name) => anActiveCloudPod(k, name)));
  pods = Object.fromEntries(names.map((name, i) => [name, applied[i]])) as typeof pods;
});
test.after(async () => { await k?.stop(); });

const get = (name: string, namespace = k.namespace) => k.call('GET', podsPath(namespace, name));
const waitResource = (name: string, what: string, accept: (r: any) => boolean, timeoutMs = 30_000) =>
  waitFor(`CloudPod ${name} ${what}`, async () => (await get(name)).body, accept, { timeoutMs, intervalMs: 100 });
const rowOf = (uid: string) => k.platform.database.db.selectFrom('cloud_pods').selectAll().where('kube_uid', '=', uid)
  .executeTakeFirst();

test('an applied CloudPod gets the finalizer, a kube-managed row and an active VM, with status written back', async () => {
  const created = await k.call('POST', podsPath(k.namespace), cloudPod('web-1', { cpuCores: 2, memoryMb: 2048 }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const uid = created.body.metadata.uid;
  const resource = await waitResource('web-1', 'Ready', (r) => readyOf(r)?.status === 'True' && r.status.phase === 'active');
  assert.equal(resource.metadata.finalizers, ['cloudpods.mpanel.io/finalizer']);
  assert.is(resource.status.observedGeneration, 1);
  assert.is(readyOf(resource).observedGeneration, 1);
  assert.ok(resource.status.ipAddresses.length > 0);
  const vmid = resource.status.vmid;
  assert.ok(k.platform.sim.sim.cluster.vms.get(vmid)?.running, 'the VM runs');
  assert.ok(k.platform.sim.sim.nodes.includes(resource.status.node));
  const row = (await rowOf(uid))!;
  assert.equal([row.managed_by, row.kube_namespace, row.kube_name, row.tenant_id, row.cpu_cores],
    ['kubernetes', k.namespace, 'web-1', k.platform.tenant.id, 2]);
  assert.is(resource.status.podId, row.id);
  const events = (await k.call('GET', `/apis/events.k8s.io/v1/namespaces/${k.namespace}/events`)).body.items;
  assert.ok(events.some((e: any) => e.reason === 'Created' && e.type === 'Normal' && e.regarding.uid === uid));
  assert.ok(events.some((e: any) => e.reason === 'Ready' && e.regarding.uid === uid));
});

test('REST refuses spec writes to a kube-managed pod (409 managed_by_kubernetes) and keeps serving its status', async () => {
  const token = k.platform.token;
  const podId = pods.shown.status.podId;
  for (const [method, path, body] of [['PATCH', `/api/cloud-pods/${podId}`, { cpu_cores: 4 }],
    ['DELETE', `/api/cloud-pods/${podId}`, undefined], ['POST', `/api/cloud-pods/${podId}/actions/stop`, undefined]] as const) {
    const response = await k.platform.app.request(method, path, { token, ...(body ? { body } : {}) });
    assert.equal([response.status, response.body.error?.code], [409, 'managed_by_kubernetes'], `${method} ${path}`);
  }
  const shown = await k.platform.app.request('GET', `/api/cloud-pods/${podId}`, { token });
  assert.equal([shown.status, shown.body.pod.managed_by, shown.body.pod.status.phase], [200, 'kubernetes', 'active']);
});

test('a spec edit is reconciled: the VM grows and observedGeneration follows', async () => {
  const { metadata: { uid }, status: { vmid } } = pods.edited;
  const patched = await k.call('PATCH', podsPath(k.namespace, 'edited'), { spec: { cpuCores: 3, diskGb: 20 } },
    'application/merge-patch+json');
  assert.is(patched.body.metadata.generation, 2);
  await waitResource('edited', 'observed generation 2', (r) => r.status?.observedGeneration === 2 && readyOf(r)?.status === 'True');
  const vm = k.platform.sim.sim.cluster.vms.get(vmid)!;
  assert.match(String(vm.config.scsi0), /size=20G/);
  assert.is(String(vm.pending.cores ?? vm.config.cores), '3');
  assert.is((await rowOf(uid))!.cpu_cores, 3);
});

test('a resource in an unlabelled namespace only reports TenantUnknown', async () => {
  await k.call('POST', '/api/v1/namespaces', { metadata: { name: 'stray' } });
  const created = await k.call('POST', podsPath('stray'), cloudPod('lost'));
  const resource = await waitFor('TenantUnknown', async () => (await get('lost', 'stray')).body,
    (r) => readyOf(r)?.reason === 'TenantUnknown', { timeoutMs: 10_000 });
  assert.is(readyOf(resource).status, 'False');
  assert.is(await rowOf(created.body.metadata.uid), undefined, 'no row, nothing provisioned');
});

test('an order over quota is refused as a QuotaExceeded condition, not provisioned', async () => {
  // The tenant's room is narrowed before the resource exists, so the bridge's first look already meets it.
  const quotas = k.platform.app.system.quotas;
  await quotas.setOverride(k.platform.tenant.id, { ...roomyQuota, cpu_cores: 100 }, { type: 'system', id: 'test' });
  try {
    const created = await k.call('POST', podsPath(k.namespace), cloudPod('huge', { cpuCores: 128, memoryMb: 1_048_576, diskGb: 65_536 }));
    const resource = await waitResource('huge', 'QuotaExceeded', (r) => readyOf(r)?.reason === 'QuotaExceeded', 10_000);
    assert.match(readyOf(resource).message, /cpu_cores/);
    assert.is(await rowOf(created.body.metadata.uid), undefined);
    await k.call('DELETE', podsPath(k.namespace, 'huge'));
    await waitResource('huge', 'gone', (r) => r.code === 404, 10_000);
  } finally {
    await quotas.setOverride(k.platform.tenant.id, roomyQuota, { type: 'system', id: 'test' });
  }
});

test('a CloudPod on a node the cluster does not have reports NodeNotFound and writes no row', async () => {
  const created = await k.call('POST', podsPath(k.namespace), cloudPod('astray', { node: 'no-such-node' }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const resource = await waitResource('astray', 'NodeNotFound', (r) => readyOf(r)?.reason === 'NodeNotFound', 10_000);
  assert.is(readyOf(resource).status, 'False');
  assert.match(readyOf(resource).message, 'node: no node no-such-node in the Proxmox cluster');
  assert.is(resource.status.phase, 'pending');
  assert.is(await rowOf(created.body.metadata.uid), undefined, 'no row, no quota held');
  await k.call('DELETE', podsPath(k.namespace, 'astray'));
  await waitResource('astray', 'gone', (r) => r.code === 404, 10_000);
});

test('text PostgreSQL refuses (a NUL byte in spec.template) is SpecInvalid, no row and no retry with backoff', async () => {
  const created = await k.call('POST', podsPath(k.namespace), cloudPod('nul-byte', { template: 'ubuntu\u0000-24.04' }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const uid = created.body.metadata.uid;
  const resource = await waitResource('nul-byte', 'SpecInvalid', (r) => readyOf(r)?.reason === 'SpecInvalid', 10_000);
  assert.equal([readyOf(resource).status, readyOf(resource).message, resource.status.phase],
    ['False', 'text must not contain NUL bytes and must be valid Unicode', 'pending']);
  assert.is(await rowOf(uid), undefined, 'nothing written');
  const warnings = (await k.call('GET', `/apis/events.k8s.io/v1/namespaces/${k.namespace}/events`)).body.items
    .filter((e: any) => e.regarding.uid === uid && e.type === 'Warning').map((e: any) => e.reason);
  assert.equal(warnings, ['SpecInvalid']);
  assert.not.ok(k.platform.app.logLines.some((line) => line.includes('sync failed') && line.includes('nul-byte')),
    'a refusal, not a failure retried with backoff');
  await k.call('DELETE', podsPath(k.namespace, 'nul-byte'));
  await waitResource('nul-byte', 'gone', (r) => r.code === 404, 10_000);
});

test('conflicting status writes are retried', async () => {
  const { vmid } = pods.stopping.status;
  k.api.faults.failNth({ method: 'PATCH', path: '/cloudpods/stopping/status', status: 409, times: 2 });
  const patched = await k.call('PATCH', podsPath(k.namespace, 'stopping'), { spec: { powerState: 'stopped' } },
    'application/merge-patch+json');
  const generation = patched.body.metadata.generation;
  const resource = await waitResource('stopping', 'stopped',
    (r) => r.status?.phase === 'stopped' && r.status.observedGeneration === generation);
  assert.is(resource.status.phase, 'stopped');
  assert.is(k.platform.sim.sim.cluster.vms.get(vmid)!.running, false);
});

test('a watch dropped, frozen or answered 410 recovers without losing an event', async () => {
  const seen = async (name: string) => waitResource(name, 'picked up', (r) => r.metadata?.finalizers?.length === 1, 15_000);
  assert.ok(k.api.faults.dropWatches('/cloudpods?') >= 1, 'the bridge watches CloudPods');
  await k.call('POST', podsPath(k.namespace), cloudPod('after-drop', { powerState: 'stopped' }));
  await seen('after-drop');
  await waitFor('watch re-opened', () => k.api.faults.openWatches('/cloudpods?'), (n) => n >= 1);
  k.api.faults.freezeWatches('/cloudpods?');
  await k.call('POST', podsPath(k.namespace), cloudPod('after-freeze', { powerState: 'stopped' }));
  await seen('after-freeze');
  await waitFor('watch re-opened', () => k.api.faults.openWatches('/cloudpods?'), (n) => n >= 1);
  // Frozen while a resource arrives and history is compacted: the watchdog re-watches from a version now too old.
  k.api.faults.freezeWatches('/cloudpods?');
  await k.call('POST', podsPath(k.namespace), cloudPod('after-410', { powerState: 'stopped' }));
  k.api.faults.compact();
  await seen('after-410');
  const relists = k.api.calls.filter((c) => c.method === 'GET' && c.path === '/apis/cloudpods.mpanel.io/v1alpha1/cloudpods');
  assert.ok(relists.length >= 2, 'the 410 made the bridge relist');
  for (const name of ['after-drop', 'after-freeze', 'after-410']) await k.call('DELETE', podsPath(k.namespace, name));
  for (const name of ['after-drop', 'after-freeze', 'after-410']) await waitResource(name, 'gone', (r) => r.code === 404);
});

test('a CloudPodHook is stored as a kube-managed hook row of the tenant, shows its last delivery, and is deleted with its resource', async () => {
  const hooks = `/apis/cloudpods.mpanel.io/v1alpha1/namespaces/${k.namespace}/cloudpodhooks`;
  const db = k.platform.database.db;
  const created = await k.call('POST', hooks, { apiVersion: 'cloudpods.mpanel.io/v1alpha1', kind: 'CloudPodHook',
    metadata: { name: 'notify' }, spec: { event: 'pod.post_create', type: 'http', target: 'https://hooks.example.com/x',
      config: { headers: { Authorization: 'Bearer abc' }, timeout_seconds: 5 } } });
  assert.is(created.status, 201);
  const hookUid = created.body.metadata.uid;
  const stored = await waitFor('hook stored', async () => (await k.call('GET', `${hooks}/notify`)).body,
    (r) => readyOf(r)?.reason === 'Stored');
  assert.equal([readyOf(stored).status, readyOf(stored).message, stored.status.phase, stored.status.observedGeneration],
    ['True', 'stored; pod.post_create events are delivered to it', 'active', 1]);
  const row = await db.selectFrom('cloud_pod_hooks').selectAll().where('kube_uid', '=', hookUid).executeTakeFirstOrThrow();
  assert.equal([row.managed_by, row.tenant_id, row.name, row.target, row.config],
    ['kubernetes', k.platform.tenant.id, 'notify', 'https://hooks.example.com/x', { headers: { Authorization: 'Bearer abc' }, timeout_seconds: 5 }]);
  assert.is(stored.status.hookId, row.id);
  const audit = await db.selectFrom('cloud_pod_audit').select(['actor_type', 'actor_id']).where('action', '=', 'hook.created')
    .where(sql`details->>'hook_id'`, '=', row.id).executeTakeFirstOrThrow();
  assert.equal(audit, { actor_type: 'kubernetes', actor_id: 'bridge' });

  // Delivery records each attempt on the row; the resource shows it.
  const lastDelivery = { type: 'LastDelivery', status: 'False', reason: 'DeliveryFailed', message: 'HTTP 503 on attempt 1 of 10',
    lastTransitionTime: '2030-01-01T00:00:00.000Z', observedGeneration: 1 };
  await db.updateTable('cloud_pod_hooks').set({ conditions: JSON.stringify([lastDelivery]) }).where('id', '=', row.id).execute();
  const reported = await waitFor('LastDelivery shown', async () => (await k.call('GET', `${hooks}/notify`)).body,
    (r) => r.status.conditions.some((c: any) => c.type === 'LastDelivery'));
  const { observedGeneration: _rowGeneration, ...copied } = lastDelivery;
  assert.equal(reported.status.conditions.find((c: any) => c.type === 'LastDelivery'), copied);
  assert.is(readyOf(reported).status, 'True');

  // A spec edit goes through the orders; an invalid config is refused by name and changes nothing.
  await k.call('PATCH', `${hooks}/notify`, { spec: { active: false } }, 'application/merge-patch+json');
  await waitFor('hook inactive', async () => db.selectFrom('cloud_pod_hooks').select('is_active').where('id', '=', row.id)
    .executeTakeFirstOrThrow(), (r) => r.is_active === false);
  const invalid = await k.call('PATCH', `${hooks}/notify`, { spec: { config: { env: { lower: 'x' } } } }, 'application/merge-patch+json');
  assert.is(invalid.status, 200, 'the structural schema lets names through: CloudPods checks them');
  const refused = await waitFor('SpecInvalid', async () => (await k.call('GET', `${hooks}/notify`)).body,
    (r) => readyOf(r)?.reason === 'SpecInvalid');
  assert.match(readyOf(refused).message, 'spec.config.env.lower');
  assert.ok(refused.status.conditions.some((c: any) => c.type === 'LastDelivery'), 'the last delivery stays shown');
  assert.equal((await db.selectFrom('cloud_pod_hooks').select('config').where('id', '=', row.id).executeTakeFirstOrThrow()).config,
    { headers: { Authorization: 'Bearer abc' }, timeout_seconds: 5 });

  const badConfig = await k.call('POST', hooks, { apiVersion: 'cloudpods.mpanel.io/v1alpha1', kind: 'CloudPodHook',
    metadata: { name: 'bad-config' }, spec: { event: 'pod.post_create', type: 'http', target: 'https://hooks.example.com/y',
      config: { headers: { 'webhook-signature': 'forged' } } } });
  assert.is(badConfig.status, 201);
  const badStatus = await waitFor('bad config refused', async () => (await k.call('GET', `${hooks}/bad-config`)).body,
    (r) => readyOf(r)?.reason === 'SpecInvalid');
  assert.is(readyOf(badStatus).status, 'False');
  assert.match(readyOf(badStatus).message, /^spec\.config\.headers\.webhook-signature: /);
  assert.is(await db.selectFrom('cloud_pod_hooks').select('id').where('kube_uid', '=', badConfig.body.metadata.uid)
    .executeTakeFirst(), undefined, 'nothing written');

  const badScript = await k.call('POST', hooks, { apiVersion: 'cloudpods.mpanel.io/v1alpha1', kind: 'CloudPodHook',
    metadata: { name: 'bad' }, spec: { event: 'pod.post_create', type: 'script', target: '../etc/passwd' } });
  assert.is(badScript.status, 422, 'the schema refuses what the table would');
  const longTimeout = await k.call('POST', hooks, { apiVersion: 'cloudpods.mpanel.io/v1alpha1', kind: 'CloudPodHook',
    metadata: { name: 'slow' }, spec: { event: 'pod.post_create', type: 'http', target: 'https://x.example.com/',
      config: { timeout_seconds: 61 } } });
  assert.is(longTimeout.status, 422, 'the schema bounds timeout_seconds');
  const blockingPost = await k.call('POST', hooks, { apiVersion: 'cloudpods.mpanel.io/v1alpha1', kind: 'CloudPodHook',
    metadata: { name: 'blocking' }, spec: { event: 'pod.post_create', type: 'http', target: 'https://x.example.com/',
      config: { blocking: true } } });
  assert.is(blockingPost.status, 422, 'only pre events can block');
  assert.match(JSON.stringify(blockingPost.body), 'config.blocking');
  const retyped = await k.call('PATCH', `${hooks}/notify`, { spec: { type: 'script', target: 'notify' } }, 'application/merge-patch+json');
  assert.is(retyped.status, 422, 'type is immutable');

  for (const name of ['notify', 'bad-config']) await k.call('DELETE', `${hooks}/${name}`);
  for (const name of ['notify', 'bad-config']) {
    await waitFor(`hook ${name} gone`, async () => (await k.call('GET', `${hooks}/${name}`)).status, (s) => s === 404);
  }
  assert.is(await db.selectFrom('cloud_pod_hooks').select('id').where('kube_uid', '=', hookUid).executeTakeFirst(), undefined);
  assert.ok(await db.selectFrom('cloud_pod_audit').select('id').where('action', '=', 'hook.deleted')
    .where('actor_type', '=', 'kubernetes').executeTakeFirst(), 'the deletion is audited as the bridge');
});

test('spec.healthCheck is the pod\'s health_check: stored with its defaults, converged, removed; CEL refuses a tcp probe without port', async () => {
  const { metadata: { uid } } = pods.probed;
  const set = await k.call('PATCH', podsPath(k.namespace, 'probed'), { spec: { healthCheck: { type: 'http', path: '/healthz' } } },
    'application/merge-patch+json');
  assert.is(set.status, 200, JSON.stringify(set.body));
  const generation = set.body.metadata.generation;
  await waitResource('probed', `observed generation ${generation}`,
    (r) => r.status?.observedGeneration === generation && readyOf(r)?.status === 'True');
  assert.equal((await rowOf(uid))!.health_check, { type: 'http', port: 80, path: '/healthz', expected_status: 200,
    interval_seconds: 30, timeout_seconds: 5, failure_threshold: 3 });

  const refused = await k.call('PATCH', podsPath(k.namespace, 'probed'), { spec: { healthCheck: { type: 'tcp' } } },
    'application/merge-patch+json');
  assert.is(refused.status, 422, JSON.stringify(refused.body));
  assert.match(JSON.stringify(refused.body), /a tcp probe needs port/);

  const removed = await k.call('PATCH', podsPath(k.namespace, 'probed'), { spec: { healthCheck: null } },
    'application/merge-patch+json');
  await waitResource('probed', `observed generation ${removed.body.metadata.generation}`,
    (r) => r.status?.observedGeneration === removed.body.metadata.generation && readyOf(r)?.status === 'True');
  assert.is((await rowOf(uid))!.health_check, null);
});

test('delete: the VM goes first, then the finalizer, then the resource', async () => {
  const { metadata: { uid }, status: { vmid } } = pods.doomed;
  const deleting = await k.call('DELETE', podsPath(k.namespace, 'doomed'));
  assert.ok(deleting.body.metadata.deletionTimestamp);
  const rv = deleting.body.metadata.resourceVersion;
  await waitResource('doomed', 'gone', (r) => r.code === 404, 30_000);
  assert.is(k.platform.sim.sim.cluster.vms.get(vmid), undefined, 'the VM is destroyed');
  assert.is(await rowOf(uid), undefined, 'the row is gone');
  const events = (await k.call('GET', `/apis/events.k8s.io/v1/namespaces/${k.namespace}/events`)).body.items
    .filter((e: any) => e.regarding.uid === uid).sort((a: any, b: any) => a.eventTime.localeCompare(b.eventTime))
    .map((e: any) => e.reason);
  assert.ok(events.indexOf('Deleting') < events.indexOf('Deleted'), events.join(','));
  // The resource was removed by the finalizer's removal, after the row went (the only path that removes it).
  assert.ok(Number(rv) > 0);
});

// Whatever ran before it: the pods applied in `before` already made the bridge read, patch, create and renew its lease.
test('the bridge never needed a right the Helm chart does not grant it', () => {
  assert.equal(k.api.forbidden, []);
  const used = new Set(k.api.calls.map((c) => c.method));
  assert.ok(['GET', 'PATCH', 'POST', 'PUT'].every((m) => used.has(m)), 'the run exercised reads, patches, creates and the lease update');
});

test.run();
