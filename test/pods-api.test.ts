import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { permissions } from '../src/auth/permissions.ts';
import { subscribe } from '../src/tenancy/subscriptions.ts';
import type { Plan } from '../src/tenancy/plans.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aPlan, aTemplate, aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/**
 * The pods API on its own: orders, checks and desired state. The controller is tested with the simulator. Each test
 * orders the pods it works on; one whose lists, quota or suspension must be its own has a tenant of its own.
 */
const test = suite('pods API');
const actor = { type: 'system' as const, id: 'test' };
let database: TestDatabase;
let app: TestApp;
let acme: Tenant;
let acmeToken: string;
let viewer: string;
let globexToken: string;
let admin: string;
let std: Plan;

const sshKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEexampleEXAMPLEexampleEXAMPLEexample ops@acme';

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  acme = await aTenant(database.db, 'acme');
  std = await aPlan(database.db, { code: 'std', cpu_cores: 4, memory_mb: 8192, disk_gb: 100, ipv4_count: 4,
    pods_count: 5 });
  await aPlan(database.db, { code: 'huge', cpu_cores: 64, memory_mb: 262144, disk_gb: 4000, ipv4_count: 16 });
  // Room for the pods every test orders as acme; tests about quota figures have a tenant of their own.
  await subscribe(database.db, { tenantId: acme.id, planId: std.id, quantity: 4 }, actor);
  await aTemplate(database.db, { code: 'ubuntu-24.04' });
  await aTemplate(database.db, { code: 'wordpress', type: 'app', app_stack: 'wordpress', minimum_plan_code: 'std' });
  await aTemplate(database.db, { code: 'enterprise', minimum_plan_code: 'huge' });
  await aTemplate(database.db, { code: 'retired', is_active: false });
  acmeToken = (await aToken(database.db, { tenant: acme, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  viewer = (await aToken(database.db, { tenant: acme, permissions: ['cloudpods.view'] })).token;
  globexToken = (await aToken(database.db, { tenant: await aTenant(database.db, 'globex'), permissions: [...permissions] }))
    .token;
  admin = (await aToken(database.db, { admin: true, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

const order = (fields: Record<string, unknown> = {}) => ({ name: 'web-1', template: 'ubuntu-24.04', cpu_cores: 1,
  memory_mb: 1024, disk_gb: 10, ...fields });
const podCount = async () => (await database.db.selectFrom('cloud_pods').select('id').execute()).length;
const reconcileJobsOf = async (podId: string) => (await database.db.selectFrom('jobs').select(['key', 'status'])
  .where('type', '=', 'pod.reconcile').where('key', '=', `pod:${podId}`).execute());

/** Orders a pod (as acme unless told) and returns it as the API answered. */
async function anOrderedPod(fields: Record<string, unknown>, token = acmeToken): Promise<any> {
  const response = await app.request('POST', '/api/cloud-pods', { token, body: order(fields) });
  assert.is(response.status, 202, JSON.stringify(response.body));
  return response.body.pod;
}

/** A tenant of its own on two units of std, with a manage and a view token. */
async function aCustomer(slug: string): Promise<{ tenant: Tenant; manage: string; view: string }> {
  const tenant = await aTenant(database.db, slug);
  await subscribe(database.db, { tenantId: tenant.id, planId: std.id, quantity: 2 }, actor);
  const manage = (await aToken(database.db, { tenant, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  const view = (await aToken(database.db, { tenant, permissions: ['cloudpods.view'] })).token;
  return { tenant, manage, view };
}

test('POST orders a pod: 202 with spec and pending status, one audit entry and one reconcile job', async () => {
  const response = await app.request('POST', '/api/cloud-pods', { token: acmeToken, body: order({
    hostname: 'web-1.acme.test', zone: 'acme.test', ssh_keys: [sshKey] }) });
  assert.is(response.status, 202, JSON.stringify(response.body));
  const pod = response.body.pod;
  const podId = pod.id;
  assert.equal([pod.name, pod.template, pod.tenant_id, pod.managed_by], ['web-1', 'ubuntu-24.04', acme.id, 'api']);
  assert.equal(pod.spec, { cpu_cores: 1, memory_mb: 1024, disk_gb: 10, hostname: 'web-1.acme.test', zone: 'acme.test',
    ssh_keys: [sshKey], power_state: 'running', app_options: {}, node: null, health_check: null });
  assert.equal([pod.status.phase, pod.status.generation, pod.status.observed_generation, pod.status.vmid],
    ['pending', 1, 0, null]);
  assert.is(pod.status.conditions[0].type, 'Ready');
  assert.is(pod.secret_seed, undefined, 'secrets never leave');
  assert.equal(await reconcileJobsOf(podId), [{ key: `pod:${podId}`, status: 'pending' }]);
  const audit = await database.db.selectFrom('cloud_pod_audit').selectAll().where('pod_id', '=', podId).execute();
  assert.equal(audit.map((a) => [a.action, a.category, a.actor_type]), [['pod.created', 'lifecycle', 'token']]);
});

test('GET lists and shows pods with filters; another tenant sees 404 and an empty list', async () => {
  const { manage, view: viewer } = await aCustomer('initech');
  const podId = (await anOrderedPod({}, manage)).id;
  const one = await app.request('GET', `/api/cloud-pods/${podId}`, { token: viewer });
  assert.is(one.body.pod.id, podId);
  const listed = await app.request('GET', '/api/cloud-pods?status=pending&template=ubuntu-24.04&name=web', { token: viewer });
  assert.equal(listed.body.pods.map((p: any) => p.id), [podId]);
  assert.is(listed.body.meta.pagination.total_entries, 1);
  assert.equal((await app.request('GET', '/api/cloud-pods?status=active', { token: viewer })).body.pods, []);
  assert.is((await app.request('GET', `/api/cloud-pods/${podId}`, { token: globexToken })).status, 404);
  assert.equal((await app.request('GET', '/api/cloud-pods', { token: globexToken })).body.pods, []);
  for (const [method, path] of [['PATCH', `/api/cloud-pods/${podId}`], ['DELETE', `/api/cloud-pods/${podId}`],
    ['POST', `/api/cloud-pods/${podId}/actions/stop`]] as const) {
    const response = await app.request(method, path, { token: globexToken, body: method === 'PATCH' ? { cpu_cores: 2 } : undefined });
    assert.is(response.status, 404, `${method} ${path}`);
  }
  const byAdmin = await app.request('GET', '/api/cloud-pods?tenant=initech', { token: admin });
  assert.equal(byAdmin.body.pods.map((p: any) => p.id), [podId], 'admins filter by tenant');
});

test('permissions: cloudpods.view reads, cloudpods.manage writes', async () => {
  const podId = (await anOrderedPod({ name: 'guarded' })).id;
  assert.is((await app.request('POST', '/api/cloud-pods', { token: viewer, body: order({ name: 'x' }) })).status, 403);
  assert.is((await app.request('DELETE', `/api/cloud-pods/${podId}`, { token: viewer })).status, 403);
});

test('bad orders are 400 naming every field, and write nothing', async () => {
  await anOrderedPod({ name: 'taken' });
  const before = await podCount();
  const cases: Array<[Record<string, unknown>, number, string[]]> = [
    [{ name: 'Web_1', template: '', cpu_cores: 0, memory_mb: 100, disk_gb: 1.5, colour: 'red' }, 400,
      ['colour', 'cpu_cores', 'disk_gb', 'memory_mb', 'name', 'template']],
    [order({ hostname: 'web.acme.test' }), 400, ['zone']],
    [order({ hostname: 'web.other.test', zone: 'acme.test' }), 400, ['hostname']],
    [order({ hostname: 'web' }), 400, ['zone']],
    [order({ hostname: 'bad_name', zone: 'acme.test' }), 400, ['hostname']],
    [order({ hostname: 'web', zone: 'not a zone' }), 400, ['zone']],
    [order({ ssh_keys: ['not a key'] }), 400, ['ssh_keys[0]']],
    [order({ template: 'nope' }), 400, ['template']],
    [order({ template: 'retired' }), 400, ['template']],
    [order({ template: 'wordpress', app_options: { database: 'postgres', colour: 1 } }), 400,
      ['app_options.admin_email', 'app_options.colour', 'app_options.database']],
    [order({ name: 'taken' }), 409, ['name']],
  ];
  for (const [body, status, fields] of cases) {
    const response = await app.request('POST', '/api/cloud-pods', { token: acmeToken, body });
    assert.is(response.status, status, `${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
    assert.equal(response.body.error.details.fields.map((f: any) => f.name).sort(), fields, JSON.stringify(body));
  }
  assert.is(await podCount(), before);
});

test('a template above the tenant\'s plan is 422 plan_required; over quota is 422 resource_limit_exceeded', async () => {
  const { manage } = await aCustomer('hooli');
  await anOrderedPod({}, manage);
  const before = await podCount();
  const plan = await app.request('POST', '/api/cloud-pods', { token: manage, body: order({ name: 'ent', template: 'enterprise' }) });
  assert.is(plan.status, 422);
  assert.is(plan.body.error.code, 'plan_required');
  const big = await app.request('POST', '/api/cloud-pods', { token: manage, body: order({ name: 'big', cpu_cores: 8 }) });
  // Two units of std: 8 cores, of which web-1 holds 1.
  assert.is(big.status, 422);
  assert.is(big.body.error.code, 'resource_limit_exceeded');
  assert.equal([big.body.error.details.resource, big.body.error.details.requested, big.body.error.details.used,
    big.body.error.details.limit], ['cpu_cores', 8, 1, 8]);
  assert.is(await podCount(), before);
});

test('Idempotency-Key: a retried order returns the first response and creates one pod', async () => {
  const before = await podCount();
  const send = (body: unknown) => app.request('POST', '/api/cloud-pods',
    { token: acmeToken, body, headers: { 'idempotency-key': 'order-web-2' } });
  const first = await send(order({ name: 'web-2' }));
  const retry = await send(order({ name: 'web-2' }));
  assert.equal([first.status, retry.status, retry.headers.get('idempotent-replayed')], [202, 202, 'true']);
  assert.is(retry.body.pod.id, first.body.pod.id);
  const changed = await send(order({ name: 'web-3' }));
  assert.is(changed.status, 422, 'the same key with another body is refused');
  assert.is(await podCount(), before + 1);
});

test('PATCH grows within quota, refuses shrinking a disk (422) and growth beyond quota; each change is a generation', async () => {
  const { manage } = await aCustomer('dunder');
  const podId = (await anOrderedPod({}, manage)).id;
  const grown = await app.request('PATCH', `/api/cloud-pods/${podId}`, { token: manage,
    body: { cpu_cores: 2, disk_gb: 20 } });
  assert.is(grown.status, 202);
  assert.equal([grown.body.pod.spec.cpu_cores, grown.body.pod.spec.disk_gb, grown.body.pod.status.generation], [2, 20, 2]);
  const shrink = await app.request('PATCH', `/api/cloud-pods/${podId}`, { token: manage, body: { disk_gb: 5 } });
  assert.is(shrink.status, 422);
  assert.equal(shrink.body.error.details.fields[0].name, 'disk_gb');
  const tooMuch = await app.request('PATCH', `/api/cloud-pods/${podId}`, { token: manage, body: { memory_mb: 20000 } });
  assert.is(tooMuch.status, 422);
  assert.is(tooMuch.body.error.code, 'resource_limit_exceeded');
  const same = await app.request('PATCH', `/api/cloud-pods/${podId}`, { token: manage, body: { cpu_cores: 2 } });
  assert.is(same.body.pod.status.generation, 2, 'no change, no new generation');
  assert.is((await app.request('PATCH', `/api/cloud-pods/${podId}`, { token: manage, body: {} })).status, 400);
});

test('a hostname may be a bare label, relative to its zone: the pod holds the full name', async () => {
  const response = await app.request('POST', '/api/cloud-pods', { token: acmeToken,
    body: order({ name: 'named', hostname: 'web1', zone: 'demo.cloudpods.test' }) });
  assert.is(response.status, 202, JSON.stringify(response.body));
  assert.equal([response.body.pod.spec.hostname, response.body.pod.spec.zone], ['web1.demo.cloudpods.test', 'demo.cloudpods.test']);
});

test('PATCH sets, changes and removes the hostname: each a generation, audited; a bad name writes nothing', async () => {
  const id = (await anOrderedPod({ name: 'renamed', hostname: 'web1', zone: 'demo.cloudpods.test' })).id;
  const patch = (body: Record<string, unknown>) => app.request('PATCH', `/api/cloud-pods/${id}`, { token: acmeToken, body });
  const name = (response: any) => [response.status, response.body.pod.spec.hostname, response.body.pod.spec.zone,
    response.body.pod.status.generation];
  assert.equal(name(await patch({ hostname: 'web2' })), [202, 'web2.demo.cloudpods.test', 'demo.cloudpods.test', 2],
    'a label stays in the pod\'s zone');
  assert.equal(name(await patch({ hostname: 'api.acme.test', zone: 'acme.test' })), [202, 'api.acme.test', 'acme.test', 3]);
  for (const [body, field] of [[{ hostname: 'www.elsewhere.test', zone: 'acme.test' }, 'hostname'],
    [{ hostname: 'Bad_Name' }, 'hostname'], [{ zone: 'other.test' }, 'hostname'], [{ hostname: 7 }, 'hostname']] as const) {
    const refused = await patch(body);
    assert.is(refused.status, 400, JSON.stringify(body));
    assert.equal(refused.body.error.details.fields.map((f: any) => f.name), [field], JSON.stringify(body));
  }
  assert.equal(name(await patch({ hostname: null })), [202, null, 'acme.test', 4], 'removed; the zone stays for the next label');
  assert.equal(name(await patch({ hostname: 'again' })), [202, 'again.acme.test', 'acme.test', 5], 'set again later');
  assert.equal(name(await patch({ hostname: 'again' })), [202, 'again.acme.test', 'acme.test', 5], 'the same name: no change');
  const audit = await database.db.selectFrom('cloud_pod_audit').select('details').where('pod_id', '=', id)
    .where('action', '=', 'pod.updated').orderBy('id').execute();
  assert.equal(audit.map((a: any) => a.details.changes.hostname), [
    { old: 'web1.demo.cloudpods.test', new: 'web2.demo.cloudpods.test' }, { old: 'web2.demo.cloudpods.test', new: 'api.acme.test' },
    { old: 'api.acme.test', new: null }, { old: null, new: 'again.acme.test' }]);
});

test('platform tokens order pods for a tenant named by slug or id; unnamed or unknown is 400 naming tenant', async () => {
  const bySlug = await app.request('POST', '/api/cloud-pods', { token: admin, body: order({ name: 'for-acme', tenant: 'acme' }) });
  assert.is(bySlug.status, 202, JSON.stringify(bySlug.body));
  assert.is(bySlug.body.pod.tenant_id, acme.id);
  const byId = await app.request('POST', '/api/cloud-pods', { token: admin, body: order({ name: 'for-acme-2', tenant: acme.id }) });
  assert.equal([byId.status, byId.body.pod?.tenant_id], [202, acme.id]);
  const audit = await database.db.selectFrom('cloud_pod_audit').select(['actor_type', 'tenant_id'])
    .where('pod_id', '=', bySlug.body.pod.id).execute();
  assert.equal(audit, [{ actor_type: 'token', tenant_id: acme.id }]);
  const before = await podCount();
  for (const [token, body] of [[admin, order({ name: 'nobody' })], [admin, order({ name: 'nobody', tenant: 'no-such' })],
    [acmeToken, order({ name: 'sneak', tenant: 'globex' })]] as const) {
    const refused = await app.request('POST', '/api/cloud-pods', { token, body });
    assert.is(refused.status, 400, JSON.stringify(body));
    assert.equal(refused.body.error.details.fields.map((f: any) => f.name), ['tenant']);
  }
  assert.is(await podCount(), before);
});

test('actions: stop and start change the desired power state; reboot needs a running pod', async () => {
  const podId = (await anOrderedPod({ name: 'switched' })).id;
  const stopped = await app.request('POST', `/api/cloud-pods/${podId}/actions/stop`, { token: acmeToken });
  assert.equal([stopped.status, stopped.body.pod.spec.power_state], [202, 'stopped']);
  const reboot = await app.request('POST', `/api/cloud-pods/${podId}/actions/reboot`, { token: acmeToken });
  assert.is(reboot.status, 409);
  const started = await app.request('POST', `/api/cloud-pods/${podId}/actions/start`, { token: acmeToken });
  assert.equal([started.status, started.body.pod.spec.power_state], [202, 'running']);
});

test('a suspended tenant cannot order or start pods', async () => {
  const { manage } = await aCustomer('umbrella');
  const podId = (await anOrderedPod({}, manage)).id;
  await app.request('POST', `/api/cloud-pods/${podId}/actions/stop`, { token: manage });
  await app.request('POST', '/api/cloud-pods/tenants/umbrella/suspend', {
    token: (await aToken(database.db, { admin: true })).token });
  const start = await app.request('POST', `/api/cloud-pods/${podId}/actions/start`, { token: manage });
  assert.equal([start.status, start.body.error.code], [409, 'tenant_suspended']);
  const create = await app.request('POST', '/api/cloud-pods', { token: manage, body: order({ name: 'web-9' }) });
  assert.equal([create.status, create.body.error.code], [409, 'tenant_suspended']);
});

test('DELETE marks the pod deleting (twice is fine); spec changes are then refused', async () => {
  const podId = (await anOrderedPod({ name: 'doomed' })).id;
  const deleted = await app.request('DELETE', `/api/cloud-pods/${podId}`, { token: acmeToken });
  assert.equal([deleted.status, deleted.body.pod.status.phase], [202, 'deleting']);
  assert.ok(deleted.body.pod.deletion_requested_at);
  assert.is((await app.request('DELETE', `/api/cloud-pods/${podId}`, { token: acmeToken })).status, 202);
  const patch = await app.request('PATCH', `/api/cloud-pods/${podId}`, { token: acmeToken, body: { cpu_cores: 3 } });
  assert.is(patch.status, 409);
  const reused = await app.request('POST', '/api/cloud-pods', { token: acmeToken, body: order({ name: 'doomed' }) });
  assert.is(reused.status, 202, 'the name is free again once its pod is going away');
});

test('pods managed through Kubernetes refuse spec changes through REST (409 managed_by_kubernetes)', async () => {
  const pod = await anOrderedPod({ name: 'kube-1' });
  await database.db.updateTable('cloud_pods').set({ managed_by: 'kubernetes', kube_uid: 'u-1', kube_namespace: 'acme',
    kube_name: 'kube-1' }).where('id', '=', pod.id).execute();
  for (const [method, path, body] of [['PATCH', `/api/cloud-pods/${pod.id}`, { cpu_cores: 2 }],
    ['DELETE', `/api/cloud-pods/${pod.id}`, undefined], ['POST', `/api/cloud-pods/${pod.id}/actions/stop`, undefined]] as const) {
    const response = await app.request(method, path, { token: acmeToken, body });
    assert.equal([response.status, response.body.error.code], [409, 'managed_by_kubernetes'], `${method} ${path}`);
  }
  assert.is((await app.request('GET', `/api/cloud-pods/${pod.id}`, { token: viewer })).status, 200, 'status stays readable');
});

test.run();
