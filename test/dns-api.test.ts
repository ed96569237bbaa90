import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { queryDns } from '../src/powerdns/dns-query.ts';
import type { Template } from '../src/tenancy/templates.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import type { TestApp } from './support/app.ts';
import { aPod, aTemplate, aTenant, aToken } from './support/fixtures.ts';
import type { TestPowerDns } from './support/powerdns.ts';
import type { TestDatabase } from './support/postgres.ts';
import { startDnsStack, type DnsStack } from './support/dns-stack.ts';
import { waitFor } from './support/wait.ts';

const test = suite('DNS records API');
let stack: DnsStack;
let database: TestDatabase;
let pdns: TestPowerDns;
let app: TestApp;
let tenant: Tenant;
let other: Tenant;
let zone: string;
let forbiddenZone: string;
/** The tenant may use it; the other tenant may not. */
let sharedZone: string;
let template: Template;
let podId: string;
let bareId: string;
let otherPodId: string;
let manage: string;
let viewOnly: string;
let admin: string;

test.before(async () => {
  stack = await startDnsStack();
  ({ database, pdns, app } = stack);
  tenant = await aTenant(database.db);
  other = await aTenant(database.db);
  zone = await pdns.aZone('api');
  forbiddenZone = await pdns.aZone('nope');
  sharedZone = await pdns.aZone('shared');
  await app.system.settings.update({ 'cloudpods.dns.tenant_zones': { [tenant.slug]: [zone, sharedZone] } },
    { type: 'system', id: 'test' });
  template = await aTemplate(database.db);
  podId = await withIps(tenant, ['192.0.2.40', '2001:db8::40']);
  bareId = await withIps(tenant, []);
  otherPodId = await withIps(other, ['192.0.2.41']);
  manage = (await aToken(database.db, { tenant, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
  viewOnly = (await aToken(database.db, { tenant, permissions: ['cloudpods.view'] })).token;
  admin = (await aToken(database.db, { admin: true, permissions: ['cloudpods.view', 'cloudpods.manage'] })).token;
});

test.after(async () => {
  await stack?.stop();
});

/** A pod of the tenant holding these addresses, as the pod controller records them. */
const withIps = async (t: Tenant, ips: string[]) => (await aPod(database.db, { tenant: t, template, ip_addresses: ips })).id;
const path = (pod: string) => `/api/cloud-pods/${pod}/dns-records`;
const count = async () => Number((await database.db.selectFrom('cloud_pod_dns_records')
  .select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

test('add an extra name: 202, served for both families, listed, deleted', async () => {
  const podId = await withIps(tenant, ['192.0.2.40', '2001:db8::40']);
  const created = await app.request('POST', path(podId), { token: manage, body: { hostname: 'shop', zone, ttl: 60 } });
  assert.is(created.status, 202, JSON.stringify(created.body));
  assert.equal(created.body.records.map((r: { type: string; hostname: string }) => [r.type, r.hostname]).sort(),
    [['A', `shop.${zone}`], ['AAAA', `shop.${zone}`]]);
  await waitFor('both active', () => app.request('GET', path(podId), { token: viewOnly }),
    (r) => r.body.records.length === 2 && r.body.records.every((x: { status: string }) => x.status === 'active'));
  const served = await queryDns({ host: pdns.dnsHost, port: pdns.dnsPort }, `shop.${zone}`, 'AAAA');
  assert.equal(served.answers.map((a) => [a.data, a.ttl]), [['2001:db8::40', 60]]);

  const list = await app.request('GET', path(podId), { token: viewOnly });
  const a = list.body.records.find((r: { type: string }) => r.type === 'A');
  const removed = await app.request('DELETE', `${path(podId)}/${a.id}`, { token: manage });
  assert.is(removed.status, 202);
  await waitFor('A gone from DNS', () => queryDns({ host: pdns.dnsHost, port: pdns.dnsPort }, `shop.${zone}`, 'A'),
    (r) => r.answers.length === 0);
  await waitFor('row gone', () => app.request('GET', path(podId), { token: viewOnly }), (r) => r.body.records.length === 1);
  const audit = await database.db.selectFrom('cloud_pod_audit').select('action').where('category', '=', 'dns')
    .where('pod_id', '=', podId).orderBy('id').execute();
  assert.equal(audit.map((x) => x.action), ['dns.record_added', 'dns.record_deleted']);
});

test('refusals write nothing: names, zones, tenants, permissions, pods without addresses', async () => {
  const before = await count();
  const cases: Array<[string, string, string, unknown, number, string]> = [
    ['bad label', manage, path(podId), { hostname: 'bad_name', zone }, 400, 'validation_error'],
    ['too long', manage, path(podId), { hostname: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`, zone }, 400, 'validation_error'],
    ['outside the zone', manage, path(podId), { hostname: 'www.example.org', zone }, 400, 'validation_error'],
    ['zone not served', manage, path(podId), { hostname: 'x', zone: 'unknown-zone.test' }, 400, 'validation_error'],
    ['zone not allowed for the tenant', manage, path(podId), { hostname: 'x', zone: forbiddenZone }, 403, 'forbidden'],
    ['view only', viewOnly, path(podId), { hostname: 'x', zone }, 403, 'forbidden'],
    ['another tenant\'s pod', manage, path(otherPodId), { hostname: 'x', zone }, 404, 'not_found'],
    ['no address yet', manage, path(bareId), { hostname: 'x', zone }, 409, 'conflict'],
    ['unknown field', manage, path(podId), { hostname: 'x', zone, weight: 1 }, 400, 'validation_error'],
    ['a bare label without a zone', manage, path(podId), { hostname: 'x' }, 400, 'validation_error'],
    ['a dotted name in no zone the tenant may use', manage, path(podId), { hostname: `x.${forbiddenZone}` }, 400, 'validation_error'],
    ['a tenant named that is not the pod\'s', admin, path(podId), { tenant: other.slug, hostname: 'x', zone }, 400, 'validation_error'],
    ['a tenant token naming another tenant', manage, path(podId), { tenant: other.id, hostname: 'x', zone }, 400, 'validation_error'],
  ];
  for (const [what, token, url, body, status, code] of cases) {
    const response = await app.request('POST', url, { token, body });
    assert.is(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
    assert.is(response.body.error.code, code, what);
  }
  assert.is((await app.request('GET', path(otherPodId), { token: manage })).status, 404);
  assert.is(await count(), before, 'nothing written');
});

test('a dotted name without a zone goes in the served zone holding it; platform tokens may name the pod\'s tenant', async () => {
  const inferred = await app.request('POST', path(podId), { token: manage, body: { hostname: `inferred.${zone}`, type: 'A' } });
  assert.is(inferred.status, 202, JSON.stringify(inferred.body));
  assert.equal(inferred.body.records.map((r: any) => [r.hostname, r.zone_name]), [[`inferred.${zone}`, zone]]);
  const byAdmin = await app.request('POST', path(podId), { token: admin,
    body: { tenant: tenant.slug, hostname: 'by-admin', zone, type: 'A' } });
  assert.is(byAdmin.status, 202, JSON.stringify(byAdmin.body));
  assert.equal(byAdmin.body.records.map((r: any) => [r.hostname, r.tenant_id]), [[`by-admin.${zone}`, tenant.id]]);
});

test('a name another tenant holds is refused; admins may use any served zone', async () => {
  const taken = await app.request('POST', path(otherPodId), { token: admin, body: { hostname: 'claimed', zone: sharedZone } });
  assert.is(taken.status, 202, JSON.stringify(taken.body));
  const refused = await app.request('POST', path(podId), { token: manage, body: { hostname: 'claimed', zone: sharedZone } });
  assert.is(refused.status, 409, JSON.stringify(refused.body));
  // Only that the name is taken: not that another tenant exists, let alone which.
  assert.equal([refused.body.error.code, refused.body.error.message], ['conflict', `claimed.${sharedZone} is already taken`]);
  assert.not.match(JSON.stringify(refused.body), /tenant/i);
});

test.run();
