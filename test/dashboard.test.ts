import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { recordAudit } from '../src/observability/audit.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aPod, aTemplate, aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

const test = suite('admin dashboard');
let database: TestDatabase;
let app: TestApp;
let viewer: string;
/** The overview counts every tenant: tests use these two, made before them. */
let big: Tenant;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  viewer = (await aToken(database.db, { admin: true, permissions: ['cloudpods.view', 'health.view'] })).token;
  const db = database.db;
  const template = await aTemplate(db);
  big = await aTenant(db, 'bigco');
  const small = await aTenant(db, 'smallco');
  const pods = [
    await aPod(db, { tenant: big, template, cpu_cores: 8, memory_mb: 16384, disk_gb: 100 }),
    await aPod(db, { tenant: big, template, cpu_cores: 4, memory_mb: 8192, disk_gb: 50 }),
    await aPod(db, { tenant: small, template, cpu_cores: 1, memory_mb: 1024, disk_gb: 10 }),
    await aPod(db, { tenant: small, template, cpu_cores: 2, memory_mb: 2048, disk_gb: 20 }),
  ];
  const ready = (status: string) => JSON.stringify([{ type: 'Ready', status, reason: 'x', message: '', lastTransitionTime: new Date().toISOString() }]);
  await db.updateTable('cloud_pods').set({ status: 'active', conditions: ready('True') }).where('id', 'in', [pods[0]!.id, pods[2]!.id]).execute();
  await db.updateTable('cloud_pods').set({ status: 'active', conditions: ready('False') }).where('id', '=', pods[1]!.id).execute();
  await db.updateTable('cloud_pods').set({ status: 'error' }).where('id', '=', pods[3]!.id).execute();
  // Unhealthy is what the health controller found (Healthy=False), whatever the phase and Ready say.
  await db.updateTable('cloud_pods').set({ health_status: 'False', health_reason: 'VMStopped' })
    .where('id', 'in', [pods[0]!.id, pods[3]!.id]).execute();
  await db.updateTable('cloud_pods').set({ health_status: 'True', health_reason: 'Healthy' }).where('id', '=', pods[1]!.id).execute();
  await db.insertInto('cloud_pod_volumes').values({ tenant_id: big.id, pod_id: pods[0]!.id, name: 'data', size_gb: 200,
    status: 'attached' }).execute();
  for (const pod of pods) {
    await recordAudit(db, { actor: { type: 'token', id: 't' }, category: 'lifecycle', action: 'pod.created',
      tenantId: pod.tenant_id, podId: pod.id });
  }
  await recordAudit(db, { actor: { type: 'controller', id: 'pod' }, category: 'lifecycle', action: 'pod.deleted',
    tenantId: big.id, podId: pods[1]!.id });
  await recordAudit(db, { actor: { type: 'system', id: 'x' }, category: 'settings', action: 'setting.updated' });
  await db.insertInto('cloud_pod_audit').values({ actor_type: 'controller', actor_id: 'health', category: 'health',
    action: 'auto_heal.reset', created_at: sql`now() - interval '2 hours'` as never, details: '{}' }).execute();
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

test('the overview counts pods, tenants, resources, health, recent events, top tenants and the last 7 days', async () => {
  const response = await app.request('GET', '/api/cloud-pods/admin/overview', { token: viewer });
  assert.is(response.status, 200);
  const o = response.body;
  assert.equal(o.totals, { pods: { total: 4, active: 3, stopped: 0, provisioning: 0, error: 1, deleting: 0 }, tenants: 2 });
  assert.equal(o.resources, {
    cpuCores: { allocated: 15, usedApprox: 13 }, memoryMb: { allocated: 27648, usedApprox: 25600 },
    diskGb: { allocated: 380, usedApprox: 360 },
  });
  assert.equal(o.health, { unhealthyPods: 2, autoHealTriggeredLast24h: 1 });
  assert.ok(o.recentEvents.every((e: any) => ['lifecycle', 'health', 'backup', 'quota'].includes(e.category)));
  assert.is(o.recentEvents[0].action, 'auto_heal.reset', 'newest first');
  assert.not.ok(o.recentEvents.some((e: any) => e.action === 'setting.updated'), 'only lifecycle, health, backup, quota');
  assert.equal(o.topTenantsByUsage.map((t: any) => [t.name, t.pods, t.cpuCores, t.memoryMb]),
    [['Tenant bigco', 2, 12, 24576], ['Tenant smallco', 2, 3, 3072]]);
  assert.is(o.podsCreatedVsDestroyed7d.length, 7);
  const today = o.podsCreatedVsDestroyed7d.at(-1);
  assert.equal([today.created, today.destroyed], [4, 1]);
});

test('a pod whose deletion was asked counts as deleting at once, before its controller writes the phase', async () => {
  const overview = async () => (await app.request('GET', '/api/cloud-pods/admin/overview', { token: viewer })).body.totals.pods;
  const before = await overview();
  // The suite's own tenant and template, so nothing else the overview counts changes.
  const tenant = await database.db.selectFrom('tenants').selectAll().where('slug', '=', 'smallco').executeTakeFirstOrThrow();
  const template = await database.db.selectFrom('cloud_pod_templates').selectAll().executeTakeFirstOrThrow();
  const pod = await aPod(database.db, { tenant, template });
  await database.db.updateTable('cloud_pods').set({ status: 'active', deletion_requested_at: sql`now()` })
    .where('id', '=', pod.id).execute();
  try {
    const after = await overview();
    assert.equal([after.total - before.total, after.deleting - before.deleting, after.active - before.active], [1, 1, 0]);
  } finally {
    await database.db.deleteFrom('cloud_pods').where('id', '=', pod.id).execute();
  }
});

test('the overview needs admin scope, cloudpods.view and health.view', async () => {
  const partial = (await aToken(database.db, { admin: true, permissions: ['cloudpods.view'] })).token;
  const tenant = (await aToken(database.db, { tenant: big, permissions: ['cloudpods.view', 'health.view'] })).token;
  const denied = await app.request('GET', '/api/cloud-pods/admin/overview', { token: partial });
  assert.equal([denied.status, denied.body.error.details.missing], [403, ['health.view']]);
  assert.is((await app.request('GET', '/api/cloud-pods/admin/overview', { token: tenant })).status, 403);
});

test('the dashboard page shows the cards, the chart and the top tenants', async () => {
  const page = await fetch(`${app.url}/admin/dashboard`, { headers: { cookie: `cloudpods_admin=${viewer}` } });
  assert.is(page.status, 200);
  const text = await page.text();
  assert.match(text, /data-testid="pods">4</);
  assert.match(text, /data-testid="unhealthy">2</);
  assert.match(text, /<svg role="img" aria-label="Pods created and destroyed per day/);
  assert.match(text, /Tenant bigco/);
  const root = await fetch(`${app.url}/admin`, { redirect: 'manual', headers: { cookie: `cloudpods_admin=${viewer}` } });
  assert.is(root.headers.get('location'), '/admin/dashboard');
});

test.run();
