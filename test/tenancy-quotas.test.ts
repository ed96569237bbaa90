import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../src/observability/logger.ts';
import { SystemSettingsService } from '../src/settings/service.ts';
import { QuotaExceededError, TenantSuspendedError } from '../src/tenancy/errors.ts';
import { updatePlan } from '../src/tenancy/plans.ts';
import { CloudPodQuotasService, quotaViolations } from '../src/tenancy/quotas.ts';
import { changeSubscription, subscribe } from '../src/tenancy/subscriptions.ts';
import { setTenantStatus } from '../src/tenancy/tenants.ts';
import { computeTotals, recomputeTotals, verifyTotals } from '../src/tenancy/totals.ts';
import { aPlan, aPod, aTemplate, aTenant } from './support/fixtures.ts';
import { anEngine } from './support/jobs.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

const test = suite('plans, subscriptions, totals and quotas');
const actor = { type: 'system' as const, id: 'test' };
let database: TestDatabase;
let settings: SystemSettingsService;
let quotas: CloudPodQuotasService;

test.before(async () => {
  database = await testDatabase();
  settings = new SystemSettingsService({ db: database.db, databaseUrl: database.url, logger: createLogger({ level: 'silent' }) });
  await settings.start();
  quotas = new CloudPodQuotasService(database.db, settings);
});

test.after(async () => {
  await settings?.stop();
  await database?.drop();
});

const storedTotals = (tenantId: string) => database.db.selectFrom('cloud_tenant_resource_totals')
  .select(['pods_total', 'cpu_cores_total', 'memory_mb_total', 'disk_gb_total', 'bandwidth_gb_total', 'ipv4_total'])
  .where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();

test('totals follow every kind of subscription and plan change', async () => {
  const db = database.db;
  const tenant = await aTenant(db);
  const small = await aPlan(db, { cpu_cores: 2, memory_mb: 2048, disk_gb: 40, bandwidth_gb: 1000, ipv4_count: 1 });
  const big = await aPlan(db, { cpu_cores: 8, memory_mb: 16384, disk_gb: 200, bandwidth_gb: null, ipv4_count: 2 });

  const first = await subscribe(db, { tenantId: tenant.id, planId: small.id, quantity: 2 }, actor);
  assert.equal(await storedTotals(tenant.id), { pods_total: 2, cpu_cores_total: 4, memory_mb_total: 4096,
    disk_gb_total: 80, bandwidth_gb_total: 2000, ipv4_total: 2 });

  const second = await subscribe(db, { tenantId: tenant.id, planId: big.id, quantity: 1 }, actor);
  assert.equal(await storedTotals(tenant.id), { pods_total: 4, cpu_cores_total: 12, memory_mb_total: 20480,
    disk_gb_total: 280, bandwidth_gb_total: null, ipv4_total: 4 }, 'a plan without bandwidth is unmetered');

  await changeSubscription(db, tenant.id, first.id, { quantity: 3 }, actor);
  assert.is((await storedTotals(tenant.id)).cpu_cores_total, 14);

  await updatePlan(db, small.code, { cpu_cores: 4 }, actor);
  assert.is((await storedTotals(tenant.id)).cpu_cores_total, 20, 'a plan change reaches its subscribers');
  await updatePlan(db, small.code, { name: 'Renamed' }, actor);
  assert.is((await storedTotals(tenant.id)).cpu_cores_total, 20);

  await changeSubscription(db, tenant.id, second.id, { status: 'cancelled' }, actor);
  assert.equal(await storedTotals(tenant.id), { pods_total: 3, cpu_cores_total: 12, memory_mb_total: 6144,
    disk_gb_total: 120, bandwidth_gb_total: 3000, ipv4_total: 3 }, 'without the unmetered plan, bandwidth is metered again');
  assert.is(await changeSubscription(db, tenant.id, second.id, { quantity: 5 }, actor), 'cancelled',
    'a cancelled subscription stays cancelled');

  await changeSubscription(db, tenant.id, first.id, { status: 'cancelled' }, actor);
  assert.equal(await storedTotals(tenant.id),
    { pods_total: 0, cpu_cores_total: 0, memory_mb_total: 0, disk_gb_total: 0, bandwidth_gb_total: 0, ipv4_total: 0 });

  const audit = await db.selectFrom('cloud_pod_audit').select('action').where('tenant_id', '=', tenant.id)
    .where('category', '=', 'quota').orderBy('id').execute();
  assert.equal(audit.map((a) => a.action), ['subscription.created', 'subscription.created', 'subscription.changed',
    'subscription.cancelled', 'subscription.cancelled']);
  assert.equal(await verifyTotals(db), [], 'the check recomputes every tenant and finds nothing wrong');
});

test('the totals check finds a tampered row', async () => {
  const tenant = await aTenant(database.db);
  await subscribe(database.db, { tenantId: tenant.id, planId: (await aPlan(database.db)).id, quantity: 1 }, actor);
  await database.db.updateTable('cloud_tenant_resource_totals').set({ cpu_cores_total: 99 })
    .where('tenant_id', '=', tenant.id).execute();
  try {
    const mismatches = await verifyTotals(database.db);
    assert.equal(mismatches.map((m) => [m.tenantId, m.stored?.cpu_cores_total, m.expected.cpu_cores_total]),
      [[tenant.id, 99, 2]]);
  } finally {
    await recomputeTotals(database.db, tenant.id); // repaired, so the other tests' checks find nothing wrong
  }
});

test('quota resolution: override, else active subscriptions, else defaults from settings', async () => {
  const db = database.db;
  const tenant = await aTenant(db);
  const fromDefaults = await quotas.getTenantQuota(tenant.id);
  assert.equal(fromDefaults, { source: 'default', limits: {
    pods: 3, cpu_cores: 4, memory_mb: 8192, disk_gb: 100, bandwidth_gb: 1000, ipv4: 1 } });

  await settings.update({ 'cloudpods.quota.default_max_cpu_cores': 6 }, actor);
  assert.is((await quotas.getTenantQuota(tenant.id)).limits.cpu_cores, 6, 'defaults come from settings');

  const plan = await aPlan(db, { cpu_cores: 3, memory_mb: 3072, disk_gb: 30, bandwidth_gb: 300, ipv4_count: 1,
    pods_count: 4 });
  const sub = await subscribe(db, { tenantId: tenant.id, planId: plan.id, quantity: 2 }, actor);
  assert.equal(await quotas.getTenantQuota(tenant.id), { source: 'subscriptions', limits: {
    pods: 8, cpu_cores: 6, memory_mb: 6144, disk_gb: 60, bandwidth_gb: 600, ipv4: 2 } },
    'subscriptions raise the pod limit as they raise CPU and memory');
  const unmetered = await subscribe(db, { tenantId: tenant.id,
    planId: (await aPlan(db, { cpu_cores: 1, bandwidth_gb: null })).id, quantity: 1 }, actor);
  assert.is((await quotas.getTenantQuota(tenant.id)).limits.bandwidth_gb, null,
    'an unmetered subscription leaves no bandwidth limit');
  await changeSubscription(db, tenant.id, unmetered.id, { status: 'cancelled' }, actor);

  await quotas.setOverride(tenant.id, { pods: 10, cpu_cores: 32, memory_mb: 65536, disk_gb: 1000, bandwidth_gb: null,
    ipv4: 8 }, actor);
  assert.equal(await quotas.getTenantQuota(tenant.id), { source: 'override', limits: {
    pods: 10, cpu_cores: 32, memory_mb: 65536, disk_gb: 1000, bandwidth_gb: null, ipv4: 8 } });

  assert.ok(await quotas.clearOverride(tenant.id, actor));
  assert.is((await quotas.getTenantQuota(tenant.id)).source, 'subscriptions');

  await changeSubscription(db, tenant.id, sub.id, { status: 'cancelled' }, actor);
  assert.is((await quotas.getTenantQuota(tenant.id)).source, 'default', 'cancelled subscriptions do not count');
  await settings.update({ 'cloudpods.quota.default_max_cpu_cores': null }, actor);
});

test('a subscription past its end stops counting: it is expired and the totals follow', async () => {
  const db = database.db;
  const tenant = await aTenant(db);
  const plan = await aPlan(db, { cpu_cores: 16 });
  const sub = await subscribe(db, { tenantId: tenant.id, planId: plan.id, quantity: 1,
    endsAt: new Date(Date.now() + 3_600_000) }, actor);
  assert.is((await quotas.getTenantQuota(tenant.id)).limits.cpu_cores, 16);
  // The end arrives (moved into the past rather than waiting an hour).
  await db.updateTable('cloud_tenant_resource_subscriptions')
    .set({ started_at: sql`now() - interval '1 hour'`, ends_at: sql`now() - interval '1 second'` })
    .where('id', '=', sub.id).execute();
  assert.equal(await computeTotals(db, tenant.id),
    { pods_total: 0, cpu_cores_total: 0, memory_mb_total: 0, disk_gb_total: 0, bandwidth_gb_total: 0, ipv4_total: 0 });
  assert.is((await quotas.getTenantQuota(tenant.id)).source, 'default');
  const row = await db.selectFrom('cloud_tenant_resource_subscriptions').select('status').where('id', '=', sub.id)
    .executeTakeFirstOrThrow();
  assert.is(row.status, 'cancelled');
  assert.is((await storedTotals(tenant.id)).cpu_cores_total, 0);
});

test('usage counts every pod row (also those being deleted), volumes on disk, and an IPv4 address per pod', async () => {
  const db = database.db;
  const tenant = await aTenant(db);
  const template = await aTemplate(db);
  const pod = await aPod(db, { tenant, template, cpu_cores: 2, memory_mb: 2048, disk_gb: 20 });
  const leaving = await aPod(db, { tenant, template, cpu_cores: 1, memory_mb: 1024, disk_gb: 10 });
  await db.updateTable('cloud_pods').set({ deletion_requested_at: sql`now()`, status: 'deleting' })
    .where('id', '=', leaving.id).execute();
  await db.insertInto('cloud_pod_volumes').values({ tenant_id: tenant.id, pod_id: pod.id, name: 'data', size_gb: 50 })
    .execute();
  assert.equal(await quotas.getTenantUsage(tenant.id),
    { pods: 2, cpu_cores: 3, memory_mb: 3072, disk_gb: 80, bandwidth_gb: 0, ipv4: 2 },
    'each pod holds its IPv4 address from the order on, before the controller allocates it');
});

test('quotaViolations names every resource that is short', () => {
  const limits = { pods: 2, cpu_cores: 4, memory_mb: 4096, disk_gb: 50, bandwidth_gb: null, ipv4: 1 };
  const usage = { pods: 2, cpu_cores: 3, memory_mb: 1024, disk_gb: 10, bandwidth_gb: 9999, ipv4: 0 };
  assert.equal(quotaViolations(limits, usage, { pods: 1, cpu_cores: 1, memory_mb: 1024, disk_gb: 10 }),
    [{ resource: 'pods', requested: 1, used: 2, limit: 2 }]);
  assert.equal(quotaViolations(limits, usage, { cpu_cores: 2, bandwidth_gb: 5, ipv4: 2 }), [
    { resource: 'cpu_cores', requested: 2, used: 3, limit: 4 }, { resource: 'ipv4', requested: 2, used: 0, limit: 1 }]);
  assert.equal(quotaViolations(limits, usage, {}), []);
});

test('20 concurrent orders against a quota that fits 5: exactly 5 succeed', async () => {
  const db = database.db;
  const tenant = await aTenant(db);
  const template = await aTemplate(db);
  await quotas.setOverride(tenant.id, { pods: 100, cpu_cores: 10, memory_mb: 100_000, disk_gb: 10_000,
    bandwidth_gb: null, ipv4: null }, actor);
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => db.transaction().execute(async (trx) => {
    await quotas.reserve(trx, tenant.id, { pods: 1, cpu_cores: 2, memory_mb: 1024, disk_gb: 10 });
    return aPod(trx, { tenant, template, cpu_cores: 2 });
  })));
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.is(ok.length, 5);
  assert.is(refused.length, 15);
  for (const failure of refused) {
    assert.instance(failure.reason, QuotaExceededError);
    assert.equal((failure.reason as QuotaExceededError).details, {
      resource: 'cpu_cores', requested: 2, used: 10, limit: 10,
      limits: [{ resource: 'cpu_cores', requested: 2, used: 10, limit: 10 }] });
  }
  const pods = await db.selectFrom('cloud_pods').select('id').where('tenant_id', '=', tenant.id).execute();
  assert.is(pods.length, 5);
});

test('a suspended tenant orders nothing', async () => {
  const tenant = await aTenant(database.db);
  await setTenantStatus({ db: database.db, engine: anEngine(database), settings }, tenant.id, 'suspended', actor);
  try {
    await database.db.transaction().execute((trx) => quotas.reserve(trx, tenant.id, { pods: 1 }));
    assert.unreachable();
  } catch (error) {
    assert.instance(error, TenantSuspendedError);
  }
});

test.run();
