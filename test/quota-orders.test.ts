import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { QuotaResource } from '../src/tenancy/errors.ts';
import type { QuotaOverride } from '../src/tenancy/quotas.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTemplate, aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/**
 * Property: for every quota resource, N orders sent at once against room for k accept exactly k (202) and refuse the
 * rest (422 resource_limit_exceeded naming the resource), and the rows never hold more than the limit, whatever the
 * interleaving. Each order counts what the orders before it reserved, not what the controller did since (it does not
 * run here at all: no Proxmox), so an IPv4 address counts from the moment its pod is ordered.
 */
const test = suite('quota: concurrent orders against room for k');
const actor = { type: 'system' as const, id: 'test' };
let database: TestDatabase;
let app: TestApp;

// A seeded generator, so a failing case can be replayed with QUOTA_SEED.
const seed = Number(process.env.QUOTA_SEED ?? Date.now() % 1_000_000);
let state = seed;
const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  await aTemplate(database.db, { code: 'plain' });
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
});

const roomy: QuotaOverride = { pods: 1000, cpu_cores: 10_000, memory_mb: 10_000_000, disk_gb: 1_000_000,
  bandwidth_gb: null, ipv4: null };
const pod = { template: 'plain', cpu_cores: 1, memory_mb: 512, disk_gb: 5 };

interface Case {
  /** The override giving room for exactly k orders. */
  limits(k: number): Partial<QuotaOverride>;
  resource: QuotaResource;
  /** What one order asks for of the resource. */
  each: number;
  /** Prepares the tenant (volumes need their pod); returns the order to send n times. */
  order(ctx: { token: string }): Promise<(i: number) => { path: string; body: Record<string, unknown> }>;
}

const podOrder = (fields: Record<string, unknown>) => async () =>
  (i: number) => ({ path: '/api/cloud-pods', body: { ...pod, ...fields, name: `p-${i}` } });

const cases: Record<string, Case> = {
  pods: { resource: 'pods', each: 1, limits: (k) => ({ pods: k }), order: podOrder({}) },
  cpu_cores: { resource: 'cpu_cores', each: 3, limits: (k) => ({ cpu_cores: 3 * k }), order: podOrder({ cpu_cores: 3 }) },
  memory_mb: { resource: 'memory_mb', each: 768, limits: (k) => ({ memory_mb: 768 * k }),
    order: podOrder({ memory_mb: 768 }) },
  disk_gb: { resource: 'disk_gb', each: 20, limits: (k) => ({ disk_gb: 20 * k }), order: podOrder({ disk_gb: 20 }) },
  ipv4: { resource: 'ipv4', each: 1, limits: (k) => ({ ipv4: k }), order: podOrder({}) },
  volume_size_gb: {
    resource: 'disk_gb', each: 7, limits: (k) => ({ disk_gb: pod.disk_gb + 7 * k }),
    async order({ token }) {
      const created = await app.request('POST', '/api/cloud-pods', { token, body: { ...pod, name: 'holder' } });
      assert.is(created.status, 202, JSON.stringify(created.body));
      const podId = created.body.pod.id as string;
      return (i) => ({ path: `/api/cloud-pods/${podId}/volumes`, body: { name: `v-${i}`, size_gb: 7 } });
    },
  },
};

/** What the tenant's rows hold of a case's resource, counted straight from the tables. */
async function held(tenantId: string, name: string): Promise<number> {
  const db = database.db;
  const pods = await db.selectFrom('cloud_pods').select(['cpu_cores', 'memory_mb', 'disk_gb'])
    .where('tenant_id', '=', tenantId).execute();
  const volumes = await db.selectFrom('cloud_pod_volumes').select('size_gb').where('tenant_id', '=', tenantId).execute();
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  switch (name) {
    case 'cpu_cores': return sum(pods.map((p) => p.cpu_cores));
    case 'memory_mb': return sum(pods.map((p) => p.memory_mb));
    case 'disk_gb': return sum(pods.map((p) => p.disk_gb));
    case 'volume_size_gb': return sum(volumes.map((v) => v.size_gb));
    default: return pods.length; // pods, and ipv4: each pod holds one address from its order on
  }
}

for (const [name, spec] of Object.entries(cases)) {
  test(`${name}: N orders at once against room for k accept exactly k (seed ${seed})`, async () => {
    for (let trial = 0; trial < 3; trial++) {
      const k = between(0, 5);
      const n = between(k + 1, k + 15);
      const tenant = await aTenant(database.db);
      const { token } = await aToken(database.db, { tenant, permissions: ['cloudpods.view', 'cloudpods.manage'] });
      const orderOf = await spec.order({ token });
      const before = await held(tenant.id, name);
      const limits = { ...roomy, ...spec.limits(k) };
      await app.system.quotas.setOverride(tenant.id, limits, actor);
      // The orders start spread over a few milliseconds at random, so each trial interleaves them differently.
      const responses = await Promise.all(Array.from({ length: n }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, between(0, 15)));
        const { path, body } = orderOf(i);
        return app.request('POST', path, { token, body });
      }));
      const what = `${name}, trial ${trial}: k=${k}, n=${n}, seed ${seed}`;
      const accepted = responses.filter((r) => r.status === 202);
      const refused = responses.filter((r) => r.status !== 202);
      assert.is(accepted.length, k, `${what}: ${JSON.stringify(refused.map((r) => r.body.error?.message))}`);
      for (const response of refused) {
        assert.is(response.status, 422, what);
        assert.is(response.body.error.code, 'resource_limit_exceeded', what);
        assert.is(response.body.error.details.resource, spec.resource, what);
      }
      const now = await held(tenant.id, name);
      assert.is(now - before, k * spec.each, `${what}: the rows hold exactly what was accepted`);
      const limit = limits[spec.resource]!;
      const report = await app.request('GET', '/api/cloud-pods/quota', { token });
      assert.ok(report.body.quota[spec.resource].used <= limit, `${what}: used never exceeds the limit`);
    }
  });
}

test('the ipv4 report counts the addresses ordered pods hold, before any is allocated', async () => {
  const tenant = await aTenant(database.db);
  const { token } = await aToken(database.db, { tenant, permissions: ['cloudpods.view', 'cloudpods.manage'] });
  await app.system.quotas.setOverride(tenant.id, { ...roomy, ipv4: 5 }, actor);
  for (const i of [1, 2]) {
    assert.is((await app.request('POST', '/api/cloud-pods', { token, body: { ...pod, name: `p-${i}` } })).status, 202);
  }
  const report = await app.request('GET', '/api/cloud-pods/quota', { token });
  assert.equal(report.body.quota.ipv4, { limit: 5, used: 2, available: 3 });
});

test.run();
