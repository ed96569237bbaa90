import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { podKind } from '../src/pods/kind.ts';
import type { QuotaOverride } from '../src/tenancy/quotas.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { aToken } from './support/fixtures.ts';

/**
 * The pod controller allocates no IPv4 address beyond the tenant's quota, even for pods ordered when there was room
 * (an admin lowered the quota since): such a pod waits, Ready=False QuotaExceeded, and proceeds once there is room.
 */
const test = suite('quota: the controller allocates addresses within the IPv4 quota');
const actor = { type: 'system' as const, id: 'test' };
let platform: Platform;

test.before(async () => { platform = await startPlatform(); });
test.after(async () => { await platform?.stop(); });

const ready = (pod: any) => pod?.status.conditions.find((c: any) => c.type === 'Ready');
const limits = (ipv4: number): QuotaOverride => ({ pods: 100, cpu_cores: 100, memory_mb: 100_000, disk_gb: 1000,
  bandwidth_gb: null, ipv4 });

test('pods ordered within the quota, which is then lowered: only the addresses that still fit are allocated', async () => {
  const { app, database, tenant, token } = platform;
  const admin = (await aToken(database.db, { admin: true, permissions: ['cloudpods.manage'] })).token;
  const pool = (await app.request('GET', '/api/admin/ip-pools', { token: admin })).body.pools[0];
  // No active pool for a moment, so both pods are ordered and placed but wait for an address.
  await app.request('PATCH', `/api/admin/ip-pools/${pool.id}`, { token: admin, body: { is_active: false } });
  await app.system.quotas.setOverride(tenant.id, limits(2), actor);
  const ids: string[] = [];
  for (const name of ['a-1', 'a-2']) {
    const created = await app.request('POST', '/api/cloud-pods', { token, body: { name, template: 'ubuntu-24.04',
      cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } });
    assert.is(created.status, 202, JSON.stringify(created.body));
    ids.push(created.body.pod.id);
  }
  for (const id of ids) await waitForPod(platform, id, 'waiting for an address', (p) => ready(p)?.reason === 'NoAddress');

  await app.system.quotas.setOverride(tenant.id, limits(1), actor);
  await app.request('PATCH', `/api/admin/ip-pools/${pool.id}`, { token: admin, body: { is_active: true } });
  await database.db.transaction().execute(async (trx) => {
    await podKind.enqueue(app.system.jobs, trx, ids);
  });
  const outcome = async () => Promise.all(ids.map(async (id) =>
    (await app.request('GET', `/api/cloud-pods/${id}`, { token })).body.pod));
  const [first, second] = await Promise.all(ids.map((id) => waitForPod(platform, id, 'active or refused an address',
    (p) => p.status.phase === 'active' || ready(p)?.reason === 'QuotaExceeded')));
  const refused = [first, second].filter((p) => ready(p)?.reason === 'QuotaExceeded');
  assert.is(refused.length, 1, JSON.stringify(await outcome()));
  assert.match(ready(refused[0]).message, 'ipv4: 1 used + 1 requested exceeds the limit of 1');
  const held = await database.db.selectFrom('cloud_ip_allocations').select('pod_id').where('tenant_id', '=', tenant.id)
    .execute();
  assert.is(held.length, 1, 'the rows never exceed the limit');

  await app.system.quotas.setOverride(tenant.id, limits(2), actor);
  await database.db.transaction().execute((trx) => podKind.enqueue(app.system.jobs, trx, refused[0].id));
  await waitForPod(platform, refused[0].id, 'active once there is room', (p) => p.status.phase === 'active'
    && ready(p)?.status === 'True');
});

test.run();
