import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { permissions } from '../src/auth/permissions.ts';
import { allocateAddress, createPool } from '../src/tenancy/ip-pools.ts';
import { subscribe } from '../src/tenancy/subscriptions.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aPlan, aTemplate, aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/** A tenant's probe (health_check) through the REST API: stored, shown, audited, and refused where it may not go. */
const test = suite('health probes: orders');
const actor = { type: 'system' as const, id: 'test' };
let database: TestDatabase;
let app: TestApp;
let acme: Tenant;
let token: string;
let admin: string;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  acme = await aTenant(database.db, 'acme');
  const plan = await aPlan(database.db, { code: 'std', cpu_cores: 8, memory_mb: 16384, disk_gb: 200, ipv4_count: 8,
    pods_count: 8 });
  await subscribe(database.db, { tenantId: acme.id, planId: plan.id, quantity: 1 }, actor);
  await aTemplate(database.db, { code: 'ubuntu-24.04' });
  token = (await aToken(database.db, { tenant: acme, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  admin = (await aToken(database.db, { admin: true, permissions: [...permissions] })).token;
  // A public pool serves every node; a private one serves pve2 only.
  await createPool(database.db, { name: 'public', family: 4, cidr: '198.51.100.0/24', gateway: '198.51.100.1',
    range_start: '198.51.100.10', range_end: '198.51.100.200', bridge: 'vmbr0' }, actor);
  await createPool(database.db, { name: 'private', family: 4, cidr: '10.20.0.0/16', gateway: '10.20.0.1',
    range_start: '10.20.0.10', range_end: '10.20.0.200', bridge: 'vmbr1', nodes: ['pve2'] }, actor);
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

/** On pve1 only the public pool can give the pod its address. */
const order = (fields: Record<string, unknown> = {}) => ({ template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024,
  disk_gb: 10, node: 'pve1', ...fields });
const podCount = async () => (await database.db.selectFrom('cloud_pods').select('id').execute()).length;
const fieldsOf = (response: { body: any }) => response.body.error.details.fields.map((f: any) => f.name).sort();
const allowNetworks = async (networks: string[]) => {
  const response = await app.request('PUT', '/api/admin/settings/cloudpods/webhooks.allowed_networks',
    { token: admin, body: { value: networks } });
  assert.is(response.status, 200, JSON.stringify(response.body));
};

test('POST stores the probe with its defaults; the view shows it and the audit records it', async () => {
  const response = await app.request('POST', '/api/cloud-pods', { token, body: order({ name: 'web-1',
    health_check: { type: 'https', path: '/healthz', timeout_seconds: 3 } }) });
  assert.is(response.status, 202, JSON.stringify(response.body));
  const probe = { type: 'https', port: 443, path: '/healthz', expected_status: 200, interval_seconds: 30,
    timeout_seconds: 3, failure_threshold: 3 };
  assert.equal(response.body.pod.spec.health_check, probe);
  const shown = await app.request('GET', `/api/cloud-pods/${response.body.pod.id}`, { token });
  assert.equal(shown.body.pod.spec.health_check, probe);
  const audit = await database.db.selectFrom('cloud_pod_audit').select('details')
    .where('pod_id', '=', response.body.pod.id).where('action', '=', 'pod.created').executeTakeFirstOrThrow();
  assert.equal((audit.details as any).health_check, probe);

  const without = await app.request('POST', '/api/cloud-pods', { token, body: order({ name: 'web-2' }) });
  assert.is(without.body.pod.spec.health_check, null, 'no probe unless asked');
});

test('a malformed probe is 400 naming each field, and writes nothing', async () => {
  const before = await podCount();
  const cases: Array<[unknown, string[]]> = [
    [{ type: 'tcp' }, ['health_check.port']],
    [{ type: 'icmp', port: 1 }, ['health_check.type']],
    [{ type: 'http', path: 'no-slash', expected_status: 42 }, ['health_check.expected_status', 'health_check.path']],
    [{ type: 'tcp', port: 22, host: '10.0.0.1' }, ['health_check.host']],
    [{ type: 'tcp', port: 22, interval_seconds: 10, timeout_seconds: 10 }, ['health_check.timeout_seconds']],
    ['tcp:22', ['health_check']],
  ];
  for (const [healthCheck, fields] of cases) {
    const response = await app.request('POST', '/api/cloud-pods', { token, body: order({ name: 'bad',
      health_check: healthCheck }) });
    assert.is(response.status, 400, JSON.stringify(response.body));
    assert.equal(fieldsOf(response), fields, JSON.stringify(healthCheck));
  }
  assert.is(await podCount(), before);
});

test('a probe to a refused address is rejected at creation, until an admin allows the pool\'s network', async () => {
  const before = await podCount();
  // On pve2 the pod may get an address of the private pool: internal space the hook guard refuses.
  const refused = await app.request('POST', '/api/cloud-pods', { token, body: order({ name: 'internal', node: 'pve2',
    health_check: { type: 'tcp', port: 22 } }) });
  assert.is(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(fieldsOf(refused), ['health_check']);
  assert.match(refused.body.error.message,
    /pool private, 10\.20\.0\.10 \(private\).*cloudpods\.webhooks\.allowed_networks/);
  assert.is(await podCount(), before, 'nothing written');
  // A pod whose node is not named may land on pve2 too.
  const anywhere = await app.request('POST', '/api/cloud-pods', { token, body: order({ name: 'anywhere', node: undefined,
    health_check: { type: 'tcp', port: 22 } }) });
  assert.equal([anywhere.status, fieldsOf(anywhere)], [400, ['health_check']]);
  assert.is(await podCount(), before, 'nothing written');
  await allowNetworks(['10.20.0.0/16']);
  try {
    const allowed = await app.request('POST', '/api/cloud-pods', { token, body: order({ name: 'internal', node: 'pve2',
      health_check: { type: 'tcp', port: 22 } }) });
    assert.is(allowed.status, 202, JSON.stringify(allowed.body));
  } finally {
    await allowNetworks([]);
  }
});

test('PATCH sets, changes and removes the probe: each a generation, audited; the same probe changes nothing', async () => {
  const created = await app.request('POST', '/api/cloud-pods', { token, body: order({ name: 'patched' }) });
  const id = created.body.pod.id;
  const patch = (body: Record<string, unknown>) => app.request('PATCH', `/api/cloud-pods/${id}`, { token, body });
  const seen = (response: any) => [response.status, response.body.pod.spec.health_check?.port ?? null,
    response.body.pod.status.generation];
  assert.equal(seen(await patch({ health_check: { type: 'tcp', port: 22 } })), [202, 22, 2]);
  assert.equal(seen(await patch({ health_check: { type: 'tcp', port: 22 } })), [202, 22, 2], 'the same probe');
  assert.equal(seen(await patch({ health_check: { type: 'http', port: 8080, path: '/' } })), [202, 8080, 3]);
  const bad = await patch({ health_check: { type: 'http', port: 0, path: '/' } });
  assert.equal([bad.status, fieldsOf(bad)], [400, ['health_check.port']]);
  assert.equal(seen(await patch({ health_check: null })), [202, null, 4]);
  const audit = await database.db.selectFrom('cloud_pod_audit').select('details').where('pod_id', '=', id)
    .where('action', '=', 'pod.updated').orderBy('id').execute();
  assert.equal(audit.map((a: any) => [a.details.changes.health_check.old?.port ?? null,
    a.details.changes.health_check.new?.port ?? null]), [[null, 22], [22, 8080], [8080, null]]);
});

test('a pod holding an address is judged by that address', async () => {
  const created = await app.request('POST', '/api/cloud-pods', { token, body: order({ name: 'placed', node: 'pve2' }) });
  const id = created.body.pod.id;
  await database.db.transaction().execute((trx) => allocateAddress(trx,
    { podId: id, tenantId: acme.id, family: 4, node: 'pve2', ipv4Limit: null }));
  const refused = await app.request('PATCH', `/api/cloud-pods/${id}`, { token,
    body: { health_check: { type: 'tcp', port: 22 } } });
  assert.is(refused.status, 400, JSON.stringify(refused.body));
  assert.match(refused.body.error.message, /the pod's address 10\.20\.0\.10 \(private\) is refused for probes/);
  const pod = await app.request('GET', `/api/cloud-pods/${id}`, { token });
  assert.equal([pod.body.pod.spec.health_check, pod.body.pod.status.generation], [null, 1], 'nothing written');
});

test.run();
