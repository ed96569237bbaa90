import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addressInCidr, parseCidr } from '../src/net/cidr.ts';
import { QuotaExceededError } from '../src/tenancy/errors.ts';
import { allocateAddress, createPool, PoolExhaustedError, releaseAddresses } from '../src/tenancy/ip-pools.ts';
import { aPod, aTemplate, aTenant } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

const test = suite('IP pools and address allocation');
const actor = { type: 'system' as const, id: 'test' };
let database: TestDatabase;

test.before(async () => { database = await testDatabase(); });
test.after(async () => { await database?.drop(); });
// Allocation picks from every pool that serves the node, so each test starts without any and creates its own.
test.before.each(async () => {
  await database.db.deleteFrom('cloud_ip_allocations').execute();
  await database.db.deleteFrom('cloud_ip_pools').execute();
});

test('CIDR parsing and membership, IPv4 and IPv6', () => {
  assert.equal(parseCidr('192.0.2.0/24'), { family: 4, network: 0xc0000200n, prefix: 24 });
  assert.is(parseCidr('192.0.2.1/24'), null, 'host bits set');
  assert.is(parseCidr('192.0.2.0/33'), null);
  assert.is(parseCidr('nonsense'), null);
  const v6 = parseCidr('2001:db8:1::/48')!;
  assert.is(v6.family, 6);
  assert.ok(addressInCidr('2001:db8:1:ffff::5', v6));
  assert.not.ok(addressInCidr('2001:db8:2::1', v6));
  assert.ok(addressInCidr('192.0.2.200', parseCidr('192.0.2.0/24')!));
  assert.not.ok(addressInCidr('192.0.3.1', parseCidr('192.0.2.0/24')!));
  assert.not.ok(addressInCidr('::1', parseCidr('192.0.2.0/24')!), 'other family');
});

test('concurrent allocations never hand out an address twice, skip the gateway and reuse released ones', async () => {
  const db = database.db;
  await createPool(db, { name: 'small', family: 4, cidr: '198.51.100.0/27', gateway: '198.51.100.1',
    range_start: '198.51.100.1', range_end: '198.51.100.20', bridge: 'vmbr0' }, actor);
  const tenant = await aTenant(db);
  const template = await aTemplate(db);
  const pods = await Promise.all(Array.from({ length: 25 }, () => aPod(db, { tenant, template })));

  const results = await Promise.allSettled(pods.map((pod) => db.transaction().execute((trx) =>
    allocateAddress(trx, { podId: pod.id, tenantId: tenant.id, family: 4, node: 'pve1', ipv4Limit: null }))));
  const addresses = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<any>).value.address);
  const exhausted = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.is(addresses.length, 19, 'the range holds 20 addresses, one of them the gateway');
  assert.is(new Set(addresses).size, 19, 'no address twice');
  assert.not.ok(addresses.includes('198.51.100.1'), 'the gateway is never handed out');
  assert.is(exhausted.length, 6);
  for (const failure of exhausted) assert.instance(failure.reason, PoolExhaustedError);

  const holder = pods.find((_, i) => results[i]!.status === 'fulfilled')!;
  const held = (results[pods.indexOf(holder)] as PromiseFulfilledResult<any>).value.address;
  const again = await db.transaction().execute((trx) =>
    allocateAddress(trx, { podId: holder.id, tenantId: tenant.id, family: 4, node: 'pve1', ipv4Limit: null }));
  assert.is(again.address, held, 'allocation is idempotent per pod');

  assert.equal(await db.transaction().execute((trx) => releaseAddresses(trx, holder.id)), [held]);
  const waiting = pods.find((_, i) => results[i]!.status === 'rejected')!;
  const reused = await db.transaction().execute((trx) =>
    allocateAddress(trx, { podId: waiting.id, tenantId: tenant.id, family: 4, node: 'pve1', ipv4Limit: null }));
  assert.is(reused.address, held, 'the lowest free address is the released one');
});

test('pools serve only their nodes; IPv6 pools allocate too', async () => {
  const db = database.db;
  await createPool(db, { name: 'pve3-only', family: 4, cidr: '203.0.113.0/28', gateway: '203.0.113.1',
    range_start: '203.0.113.2', range_end: '203.0.113.14', bridge: 'vmbr1', nodes: ['pve3'] }, actor);
  await createPool(db, { name: 'v6', family: 6, cidr: '2001:db8:10::/64', gateway: '2001:db8:10::1',
    range_start: '2001:db8:10::100', range_end: '2001:db8:10::1ff', bridge: 'vmbr0' }, actor);
  const tenant = await aTenant(db);
  const template = await aTemplate(db);
  const pod = await aPod(db, { tenant, template });
  const onPve3 = await db.transaction().execute((trx) =>
    allocateAddress(trx, { podId: pod.id, tenantId: tenant.id, family: 4, node: 'pve3', ipv4Limit: null }));
  assert.ok(onPve3.address.startsWith('198.51.100.') || onPve3.address.startsWith('203.0.113.'));
  const other = await aPod(db, { tenant, template });
  const v6 = await db.transaction().execute((trx) =>
    allocateAddress(trx, { podId: other.id, tenantId: tenant.id, family: 6, node: 'pve1', ipv4Limit: null }));
  assert.is(v6.address, '2001:db8:10::100');
});

test('an IPv4 address beyond the tenant\'s quota is never allocated, however many pods ask at once', async () => {
  const db = database.db;
  await createPool(db, { name: 'roomy', family: 4, cidr: '198.18.0.0/24', gateway: '198.18.0.1',
    range_start: '198.18.0.10', range_end: '198.18.0.200', bridge: 'vmbr0' }, actor);
  const template = await aTemplate(db);
  for (const [pods, limit] of [[12, 5], [6, 1], [4, 0], [3, 3]] as const) {
    const tenant = await aTenant(db);
    const rows = await Promise.all(Array.from({ length: pods }, () => aPod(db, { tenant, template })));
    const results = await Promise.allSettled(rows.map((pod) => db.transaction().execute((trx) =>
      allocateAddress(trx, { podId: pod.id, tenantId: tenant.id, family: 4, node: null, ipv4Limit: limit }))));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.is(results.length - refused.length, limit, `${pods} pods, limit ${limit}`);
    for (const failure of refused) {
      assert.instance(failure.reason, QuotaExceededError);
      assert.equal((failure.reason as QuotaExceededError).details,
        { resource: 'ipv4', requested: 1, used: limit, limit, limits: [{ resource: 'ipv4', requested: 1, used: limit, limit }] });
    }
    const held = await db.selectFrom('cloud_ip_allocations').select('pod_id').where('tenant_id', '=', tenant.id).execute();
    assert.is(held.length, limit, 'the rows never exceed the limit');
    if (limit > 0) {
      const again = await db.transaction().execute((trx) => allocateAddress(trx,
        { podId: held[0]!.pod_id, tenantId: tenant.id, family: 4, node: null, ipv4Limit: limit }));
      assert.is(again.pod_id, held[0]!.pod_id, 'a pod at the limit keeps the address it holds');
    }
  }
});

test('addresses count against the IPv4 quota and go with their pod', async () => {
  const db = database.db;
  await createPool(db, { name: 'any', family: 4, cidr: '198.51.100.0/27', gateway: '198.51.100.1',
    range_start: '198.51.100.2', range_end: '198.51.100.20', bridge: 'vmbr0' }, actor);
  const tenant = await aTenant(db);
  const pod = await aPod(db, { tenant, template: await aTemplate(db) });
  await db.transaction().execute((trx) => allocateAddress(trx, { podId: pod.id, tenantId: tenant.id, family: 4, node: null, ipv4Limit: null }));
  const count = async () => (await db.selectFrom('cloud_ip_allocations').select('id').where('tenant_id', '=', tenant.id)
    .execute()).length;
  assert.is(await count(), 1);
  await db.deleteFrom('cloud_pods').where('id', '=', pod.id).execute();
  assert.is(await count(), 0, 'removing the pod row frees its addresses');
});

test.run();
