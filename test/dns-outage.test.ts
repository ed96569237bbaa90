import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { queryDns } from '../src/powerdns/dns-query.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import type { TestApp } from './support/app.ts';
import { aTenant } from './support/fixtures.ts';
import type { TestPowerDns } from './support/powerdns.ts';
import type { TestDatabase } from './support/postgres.ts';
import { dnsNames, type DnsNames } from './support/dns-names.ts';
import { startDnsStack, type DnsStack } from './support/dns-stack.ts';
import { waitFor } from './support/wait.ts';

const test = suite('DNS records under PowerDNS outage and write contention');
let stack: DnsStack;
let database: TestDatabase;
let pdns: TestPowerDns;
let app: TestApp;
let dns: DnsNames;
let tenant: Tenant;

test.before(async () => {
  stack = await startDnsStack({ logLevel: 'silent' });
  ({ database, pdns, app } = stack);
  await app.system.settings.update({ 'jobs.initial_retry_delay_seconds': 1, 'jobs.max_retry_delay_seconds': 2,
    'jobs.retry_jitter_percent': 0 }, { type: 'system', id: 'test' });
  dns = dnsNames(stack);
  tenant = await aTenant(database.db);
});

test.after(async () => {
  await stack?.stop();
});

const statuses = async (ids: string[]) => database.db.selectFrom('cloud_pod_dns_records')
  .select(['id', 'status', 'conditions']).where('id', 'in', ids).execute();
const served = async (name: string) =>
  (await queryDns({ host: pdns.dnsHost, port: pdns.dnsPort }, name, 'A')).answers.map((a) => a.data).join(',');

test('concurrent changes in one zone on sqlite: all served, no PowerDNS 500 ever reaches status', async () => {
  const zone = await pdns.aZone('busy');
  const made = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    dns.order(tenant, zone, `h${i}.${zone}`, [`192.0.2.${i + 1}`])));
  const ids = made.flat().map((r) => r.id);
  const seen = new Set<string>();
  await waitFor('all 40 active', async () => {
    const rows = await statuses(ids);
    for (const row of rows) for (const c of row.conditions) seen.add(`${c.reason}: ${c.message}`);
    return rows;
  }, (rows) => rows.every((r) => r.status === 'active'), { timeoutMs: 30_000 });
  assert.equal([...seen].filter((s) => / 500|database is locked/.test(s)), []);
  assert.is(await served(`h39.${zone}`), '192.0.2.40');
});

test('PowerDNS stopped for a while, then back: records converge and nothing is lost', async () => {
  const zone = await pdns.aZone('outage');
  // Listed as a platform zone, orders during the outage need not ask PowerDNS whether it serves the zone.
  await app.system.settings.update({ 'cloudpods.dns.platform_zones': [zone] }, { type: 'system', id: 'test' });
  const [early] = await dns.order(tenant, zone, `early.${zone}`, ['192.0.2.100']);
  const [doomed] = await dns.order(tenant, zone, `doomed.${zone}`, ['192.0.2.101']);
  await waitFor('first records active', () => statuses([early!.id, doomed!.id]), (r) => r.every((x) => x.status === 'active'));

  await pdns.stopServer();
  const during = (await Promise.all(Array.from({ length: 5 }, (_, i) =>
    dns.order(tenant, zone, `during${i}.${zone}`, [`192.0.2.${110 + i}`])))).flat();
  await dns.remove(doomed!);
  const unavailable = await waitFor('the outage reported', () => statuses([during[0]!.id]),
    (r) => r[0]?.conditions.some((c) => c.reason === 'PowerDnsUnavailable') ?? false);
  assert.is(unavailable[0]!.status, 'pending');

  await pdns.startServer();
  const ids = during.map((r) => r.id);
  await waitFor('records made during the outage active', () => statuses(ids),
    (r) => r.length === 5 && r.every((x) => x.status === 'active'), { timeoutMs: 30_000 });
  await waitFor('the deleted record removed', () => statuses([doomed!.id]), (r) => r.length === 0, { timeoutMs: 30_000 });
  for (let i = 0; i < 5; i++) assert.is(await served(`during${i}.${zone}`), `192.0.2.${110 + i}`);
  assert.is(await served(`doomed.${zone}`), '');
  assert.is(await served(`early.${zone}`), '192.0.2.100');
});

test.run();
