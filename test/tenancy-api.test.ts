import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { permissions } from '../src/auth/permissions.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aPlan, aTemplate, aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

const test = suite('tenancy API');
let database: TestDatabase;
let app: TestApp;
let tenant: Tenant;
let other: Tenant;
let root: string;
let adminNoPerms: string;
let tenantAll: string;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  tenant = await aTenant(database.db, 'acme');
  other = await aTenant(database.db, 'globex');
  root = (await aToken(database.db, { admin: true, permissions: [...permissions] })).token;
  adminNoPerms = (await aToken(database.db, { admin: true })).token;
  tenantAll = (await aToken(database.db, { tenant, permissions: [...permissions] })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

const tables = ['tenants', 'cloud_resource_plans', 'cloud_tenant_resource_subscriptions', 'cloud_tenant_resource_totals',
  'cloud_pod_quotas', 'cloud_pod_templates', 'cloud_ip_pools', 'cloud_pod_audit'] as const;

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    counts[table] = (await database.db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()).n;
  }
  return counts;
}

test('a full round: plan, subscription, quota report, override, template, pool', async () => {
  const plan = await app.request('POST', '/api/cloud-pods/plans', { token: root, body: {
    code: 'cloud-test', name: 'Cloud Test', cpu_cores: 2, memory_mb: 2048, disk_gb: 40, bandwidth_gb: 500,
    ipv4_count: 1, pods_count: 2, price_monthly: 9.5 } });
  assert.is(plan.status, 201, JSON.stringify(plan.body));
  assert.equal([plan.body.plan.price_monthly, plan.body.plan.pods_count], ['9.50', 2]);

  const sub = await app.request('POST', '/api/cloud-pods/tenants/acme/subscriptions', { token: root,
    body: { plan_code: 'cloud-test', quantity: 3 } });
  assert.is(sub.status, 201);
  assert.equal([sub.body.subscription.plan_code, sub.body.subscription.quantity, sub.body.subscription.status],
    ['cloud-test', 3, 'active']);

  const quota = await app.request('GET', '/api/cloud-pods/quota', { token: tenantAll });
  assert.is(quota.status, 200);
  assert.is(quota.body.quota.source, 'subscriptions');
  assert.equal(quota.body.quota.cpu_cores, { limit: 6, used: 0, available: 6 });
  assert.equal(quota.body.quota.ipv4, { limit: 3, used: 0, available: 3 });
  assert.equal(quota.body.quota.pods, { limit: 6, used: 0, available: 6 }, 'each unit adds the pods its plan sells');

  const listed = await app.request('GET', '/api/cloud-pods/tenants/acme/subscriptions', { token: tenantAll });
  assert.is(listed.body.subscriptions.length, 1, 'a tenant reads its own subscriptions');

  const cancelled = await app.request('PATCH', `/api/cloud-pods/tenants/acme/subscriptions/${sub.body.subscription.id}`,
    { token: root, body: { status: 'cancelled' } });
  assert.is(cancelled.body.subscription.status, 'cancelled');
  assert.ok(cancelled.body.subscription.ends_at);

  const override = await app.request('PUT', '/api/cloud-pods/tenants/acme/quota', { token: root,
    body: { pods: 2, cpu_cores: 8, memory_mb: 8192, disk_gb: 100 } });
  assert.is(override.status, 200);
  assert.equal([override.body.quota.source, override.body.quota.bandwidth_gb.limit], ['override', null]);
  const other = await app.request('GET', '/api/cloud-pods/quota?tenant=acme', { token: root });
  assert.is(other.body.quota.pods.limit, 2, 'admins read any tenant');
  assert.is((await app.request('DELETE', '/api/cloud-pods/tenants/acme/quota', { token: root })).body.quota.source,
    'default');

  const template = await app.request('POST', '/api/cloud-pods/templates', { token: root, body: {
    code: 'wp-test', name: 'WordPress', type: 'app', app_stack: 'wordpress', proxmox_template_vmid: 9001,
    storage_pool: 'local-lvm', network_bridge: 'vmbr0', minimum_plan_code: 'cloud-test', tags: ['cms'] } });
  assert.is(template.status, 201);
  const found = await app.request('GET', '/api/cloud-pods/templates?type=app&tag=cms', { token: tenantAll });
  assert.equal(found.body.templates.map((t: any) => t.code), ['wp-test']);
  await app.request('PATCH', '/api/cloud-pods/templates/wp-test', { token: root, body: { is_active: false } });
  assert.is((await app.request('GET', '/api/cloud-pods/templates/wp-test', { token: tenantAll })).status, 404,
    'tenants do not see deactivated templates');

  const deleteInUse = await app.request('DELETE', '/api/cloud-pods/plans/cloud-test', { token: root });
  assert.is(deleteInUse.status, 200, 'a plan in use is deactivated, not deleted');
  assert.equal([deleteInUse.body.plan.is_active, deleteInUse.body.in_use], [false, { subscriptions: 1, templates: 1 }]);
  assert.is((await app.request('GET', '/api/cloud-pods/plans/cloud-test', { token: tenantAll })).status, 404,
    'tenants no longer see it');
  assert.is((await app.request('GET', '/api/cloud-pods/plans/cloud-test', { token: root })).body.plan.is_active, false);
  const deactivated = await database.db.selectFrom('cloud_pod_audit').select(['action', 'actor_type'])
    .where('action', '=', 'plan.deactivated').execute();
  assert.equal(deactivated, [{ action: 'plan.deactivated', actor_type: 'token' }]);
  assert.is((await app.request('DELETE', '/api/cloud-pods/plans/cloud-test', { token: root })).status, 200,
    'asking again changes nothing');
  const unused = await aPlan(database.db);
  assert.is((await app.request('DELETE', `/api/cloud-pods/plans/${unused.code}`, { token: root })).status, 204,
    'a plan nothing uses is deleted');
  assert.is((await app.request('GET', `/api/cloud-pods/plans/${unused.code}`, { token: root })).status, 404);

  const pool = await app.request('POST', '/api/admin/ip-pools', { token: root, body: {
    name: 'edge', cidr: '192.0.2.0/24', gateway: '192.0.2.1', range_start: '192.0.2.10', range_end: '192.0.2.20',
    bridge: 'vmbr0', vlan: 42, nodes: ['pve1'] } });
  assert.is(pool.status, 201);
  assert.equal([pool.body.pool.family, pool.body.pool.gateway], [4, '192.0.2.1']);

  const suspended = await app.request('POST', '/api/cloud-pods/tenants/globex/suspend', { token: root });
  assert.is(suspended.body.tenant.status, 'suspended');
});

test('every admin route refuses tenant tokens and admins without the permission (403), writing nothing', async () => {
  const plan = await aPlan(database.db);
  const routes: Array<[string, string, unknown, string | null]> = [
    ['GET', '/api/cloud-pods/tenants', undefined, null],
    ['POST', '/api/cloud-pods/tenants', { slug: 'x-new', name: 'X' }, null],
    ['POST', '/api/cloud-pods/tenants/globex/unsuspend', undefined, null],
    ['POST', '/api/cloud-pods/tenants/acme/suspend', undefined, null],
    ['POST', '/api/cloud-pods/plans', { code: 'p-new', name: 'P', cpu_cores: 1, memory_mb: 1, disk_gb: 1,
      price_monthly: 1 }, 'plans.manage'],
    ['PATCH', `/api/cloud-pods/plans/${plan.code}`, { name: 'Renamed' }, 'plans.manage'],
    ['DELETE', `/api/cloud-pods/plans/${plan.code}`, undefined, 'plans.manage'],
    ['POST', '/api/cloud-pods/tenants/acme/subscriptions', { plan_code: plan.code }, 'plans.manage'],
    ['PATCH', '/api/cloud-pods/tenants/acme/subscriptions/00000000-0000-4000-8000-000000000000', { quantity: 2 },
      'plans.manage'],
    ['PUT', '/api/cloud-pods/tenants/acme/quota', { pods: 1, cpu_cores: 1, memory_mb: 1, disk_gb: 1 }, 'plans.manage'],
    ['DELETE', '/api/cloud-pods/tenants/acme/quota', undefined, 'plans.manage'],
    ['POST', '/api/cloud-pods/templates', { code: 't-new', name: 'T', type: 'os', proxmox_template_vmid: 9000,
      storage_pool: 'local-lvm', network_bridge: 'vmbr0' }, 'plans.manage'],
    ['PATCH', '/api/cloud-pods/templates/wp-test', { name: 'X' }, 'plans.manage'],
    ['GET', '/api/admin/ip-pools', undefined, 'cloudpods.manage'],
    ['POST', '/api/admin/ip-pools', { name: 'p2', cidr: '10.0.0.0/24', gateway: '10.0.0.1', range_start: '10.0.0.2',
      range_end: '10.0.0.9', bridge: 'vmbr0' }, 'cloudpods.manage'],
  ];
  const before = await rowCounts();
  for (const [method, path, body, permission] of routes) {
    const asTenant = await app.request(method, path, { token: tenantAll, body });
    assert.is(asTenant.status, 403, `tenant token: ${method} ${path}`);
    if (permission) {
      const asAdmin = await app.request(method, path, { token: adminNoPerms, body });
      assert.is(asAdmin.status, 403, `admin without ${permission}: ${method} ${path}`);
      assert.equal(asAdmin.body.error.details.missing, [permission]);
    }
  }
  assert.equal(await rowCounts(), before);
});

test("tenants read their own tenant, quota and subscriptions; another tenant's are 404", async () => {
  assert.is((await app.request('GET', '/api/cloud-pods/tenants/acme', { token: tenantAll })).status, 200);
  for (const path of ['/api/cloud-pods/tenants/globex', '/api/cloud-pods/tenants/globex/subscriptions',
    '/api/cloud-pods/quota?tenant=globex', `/api/cloud-pods/tenants/${other.id}`]) {
    const response = await app.request('GET', path, { token: tenantAll });
    assert.is(response.status, 404, path);
  }
});

test('bad input on every route is answered 400 or 422 naming the fields, and writes nothing', async () => {
  const plan = (await aPlan(database.db)).code;
  const template = (await aTemplate(database.db, { type: 'app', app_stack: 'wordpress' })).code;
  const cases: Array<[string, string, unknown, number, string[]]> = [
    ['POST', '/api/cloud-pods/tenants', { slug: 'Bad Slug!', name: '' }, 400, ['name', 'slug']],
    ['POST', '/api/cloud-pods/tenants', { slug: 'acme', name: 'Duplicate' }, 409, []],
    ['POST', '/api/cloud-pods/plans', { code: 'p', name: 'P', cpu_cores: -1, memory_mb: 1.5, disk_gb: 'ten',
      price_monthly: 'free', colour: 'red' }, 400, ['colour', 'cpu_cores', 'disk_gb', 'memory_mb', 'price_monthly']],
    ['PATCH', `/api/cloud-pods/plans/${plan}`, {}, 400, ['(body)']],
    ['PATCH', `/api/cloud-pods/plans/${plan}`, { cpu_cores: 1e9 }, 400, ['cpu_cores']],
    ['PATCH', `/api/cloud-pods/plans/${plan}`, { pods_count: -1 }, 400, ['pods_count']],
    ['POST', '/api/cloud-pods/tenants/acme/subscriptions', { plan_code: 'no-such-plan', quantity: 0 }, 400,
      ['quantity']],
    ['POST', '/api/cloud-pods/tenants/acme/subscriptions', { plan_code: 'no-such-plan' }, 400, ['plan_code']],
    ['POST', '/api/cloud-pods/tenants/acme/subscriptions', { plan_code: plan, ends_at: '2020-01-01T00:00:00Z' },
      400, ['ends_at']],
    ['PATCH', '/api/cloud-pods/tenants/acme/subscriptions/00000000-0000-4000-8000-000000000000', { status: 'active' },
      400, ['status']],
    ['PUT', '/api/cloud-pods/tenants/acme/quota', { pods: -1, cpu_cores: 'many' }, 400,
      ['cpu_cores', 'disk_gb', 'memory_mb', 'pods']],
    ['POST', '/api/cloud-pods/templates', { code: 'x', name: 'X', type: 'app', proxmox_template_vmid: 5,
      storage_pool: 'local lvm', network_bridge: 'vmbr0' }, 400, ['app_stack', 'proxmox_template_vmid', 'storage_pool']],
    ['POST', '/api/cloud-pods/templates', { code: 'x', name: 'X', type: 'os', proxmox_template_vmid: 9000,
      storage_pool: 'local-lvm', network_bridge: 'vmbr0', minimum_plan_code: 'nope' }, 400, ['minimum_plan_code']],
    ['PATCH', `/api/cloud-pods/templates/${template}`, { app_stack: null }, 400, ['app_stack']],
    ['POST', '/api/admin/ip-pools', { name: 'bad', cidr: '192.0.2.5/24', gateway: 'gw', range_start: '192.0.2.9',
      range_end: '192.0.2.2', bridge: 'vmbr0' }, 400, ['cidr', 'gateway']],
    ['POST', '/api/admin/ip-pools', { name: 'bad', cidr: '192.0.2.0/24', gateway: '192.0.3.1', range_start: '192.0.2.9',
      range_end: '192.0.2.2', bridge: 'vmbr0', nameservers: ['2001:db8::53'] }, 400, ['gateway', 'nameservers[0]']],
    ['POST', '/api/admin/ip-pools', { name: 'bad', cidr: '192.0.2.0/24', gateway: '192.0.2.1', range_start: '192.0.2.9',
      range_end: '192.0.2.2', bridge: 'vmbr0' }, 400, ['range_end']],
    ['PATCH', '/api/admin/ip-pools/00000000-0000-4000-8000-000000000000', { vlan: 5000 }, 400, ['vlan']],
    ['POST', '/api/admin/ip-pools', { name: 'everything', cidr: '0.0.0.0/0', gateway: '10.0.0.1',
      range_start: '10.0.0.2', range_end: '10.0.0.9', bridge: 'vmbr0' }, 400, ['cidr']],
    ['POST', '/api/admin/ip-pools', { name: 'huge', cidr: '10.0.0.0/15', gateway: '10.0.0.1',
      range_start: '10.0.0.2', range_end: '10.0.0.9', bridge: 'vmbr0' }, 400, ['cidr']],
    ['POST', '/api/admin/ip-pools', { name: 'huge6', cidr: '2001:db8::/48', gateway: '2001:db8::1',
      range_start: '2001:db8::10', range_end: '2001:db8::ff', bridge: 'vmbr0' }, 400, ['cidr']],
    ['GET', '/api/cloud-pods/templates?type=vm', undefined, 400, ['query.type']],
  ];
  const before = await rowCounts();
  for (const [method, path, body, status, fields] of cases) {
    const response = await app.request(method, path, { token: root, body });
    assert.is(response.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
    if (fields.length > 0) {
      const names = response.body.error.details.fields.map((f: any) => f.name).sort();
      assert.equal(names, fields, `${method} ${path}`);
    }
  }
  assert.equal(await rowCounts(), before);
});

test('pool sizes are bounded by a setting per family; a /16 or a /64 is fine by default', async () => {
  const pool = (name: string, cidr: string, base: string) => app.request('POST', '/api/admin/ip-pools', { token: root,
    body: { name, cidr, gateway: `${base}1`, range_start: `${base}10`, range_end: `${base}20`, bridge: 'vmbr0' } });
  assert.is((await pool('wide-v4', '10.20.0.0/16', '10.20.0.')).status, 201);
  assert.is((await pool('wide-v6', '2001:db8:20::/64', '2001:db8:20::')).status, 201);
  const tooWide = await pool('wider-v4', '10.32.0.0/12', '10.32.0.');
  assert.is(tooWide.status, 400);
  assert.match(tooWide.body.error.details.fields[0].messages[0], 'at most a /16');
  await app.system.settings.update({ 'cloudpods.ip_pools.largest_ipv4_prefix': 12 }, { type: 'system', id: 'test' });
  try {
    assert.is((await pool('wider-v4', '10.32.0.0/12', '10.32.0.')).status, 201, 'the setting allows larger pools');
  } finally {
    await app.system.settings.update({ 'cloudpods.ip_pools.largest_ipv4_prefix': null }, { type: 'system', id: 'test' });
  }
});

test.run();
