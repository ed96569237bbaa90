import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { seedDevCatalogue } from '../src/tenancy/seed.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/** The REST front door refuses spec writes to objects owned by Kubernetes and keeps serving their status. */
const test = suite('REST and kube-managed objects');
let database: TestDatabase;
let app: TestApp;
let token: string;
let podId: string;

test.before(async () => {
  database = await testDatabase();
  const tenant = await aTenant(database.db, 'acme');
  await seedDevCatalogue(database.db, tenant.id, { type: 'system', id: 'test' });
  app = await startTestApp({ databaseUrl: database.url });
  await app.system.quotas.setOverride(tenant.id, { pods: 10, cpu_cores: 100, memory_mb: 1_000_000, disk_gb: 10_000,
    bandwidth_gb: null, ipv4: null }, { type: 'system', id: 'test' });
  token = (await aToken(database.db, { tenant, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  const pod = await app.request('POST', '/api/cloud-pods', { token, body: { name: 'web-1', template: 'ubuntu-24.04',
    cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } });
  podId = pod.body.pod.id;
});
test.after(async () => {
  await app?.stop();
  await database?.drop();
});

const kube = (uid: string, name: string) => ({ managed_by: 'kubernetes' as const, kube_uid: uid, kube_namespace: 'team', kube_name: name });

test('volumes: attach, detach, resize and delete of a kube-managed volume are 409 managed_by_kubernetes; GET works', async () => {
  const created = await app.request('POST', `/api/cloud-pods/${podId}/volumes`, { token, body: { name: 'data', size_gb: 5 } });
  assert.is(created.status, 202);
  const id = created.body.volume.id;
  await database.db.updateTable('cloud_pod_volumes').set(kube('uid-v', 'data')).where('id', '=', id).execute();
  for (const [method, path, body] of [['POST', `${id}/detach`, undefined], ['POST', `${id}/attach`, undefined],
    ['POST', `${id}/resize`, { size_gb: 6 }], ['DELETE', id, undefined]] as const) {
    const response = await app.request(method, `/api/cloud-pods/${podId}/volumes/${path}`, { token, ...(body ? { body } : {}) });
    assert.equal([response.status, response.body.error?.code], [409, 'managed_by_kubernetes'], `${method} ${path}`);
  }
  const shown = await app.request('GET', `/api/cloud-pods/${podId}/volumes/${id}`, { token });
  assert.is(shown.status, 200);
});

test('DNS records: deleting a kube-managed record is 409 managed_by_kubernetes', async () => {
  const row = await database.db.insertInto('cloud_pod_dns_records').values({ tenant_id: (await database.db
    .selectFrom('cloud_pods').select('tenant_id').where('id', '=', podId).executeTakeFirstOrThrow()).tenant_id,
  pod_id: podId, zone_name: 'example.com', hostname: 'www.example.com', ip_address: '192.0.2.10', type: 'A',
  origin: 'api', ...kube('uid-d', 'www') }).returning('id').executeTakeFirstOrThrow();
  const response = await app.request('DELETE', `/api/cloud-pods/${podId}/dns-records/${row.id}`, { token });
  assert.equal([response.status, response.body.error?.code], [409, 'managed_by_kubernetes']);
});

test('pods: a kube-managed pod refuses PATCH, DELETE and actions but is listed with its status', async () => {
  await database.db.updateTable('cloud_pods').set(kube('uid-p', 'web-1')).where('id', '=', podId).execute();
  for (const [method, path] of [['PATCH', ''], ['DELETE', ''], ['POST', '/actions/reboot']] as const) {
    const response = await app.request(method, `/api/cloud-pods/${podId}${path}`, { token,
      ...(method === 'PATCH' ? { body: { cpu_cores: 2 } } : {}) });
    assert.equal([response.status, response.body.error?.code], [409, 'managed_by_kubernetes'], `${method} ${path}`);
  }
  const list = await app.request('GET', '/api/cloud-pods', { token });
  assert.equal(list.body.pods.map((p: any) => p.managed_by), ['kubernetes']);
});

test.run();
