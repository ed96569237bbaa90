import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dnsRecordKind } from '../src/dns/kind.ts';
import { queryDns } from '../src/powerdns/dns-query.ts';
import { ownerMarker } from '../src/powerdns/ownership.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import type { TestApp } from './support/app.ts';
import { aTenant } from './support/fixtures.ts';
import type { TestPowerDns } from './support/powerdns.ts';
import type { TestDatabase } from './support/postgres.ts';
import { dnsNames, type DnsNames } from './support/dns-names.ts';
import { startDnsStack, type DnsStack } from './support/dns-stack.ts';
import { waitFor } from './support/wait.ts';

const test = suite('dns-record controller against PowerDNS');
let stack: DnsStack;
let database: TestDatabase;
let pdns: TestPowerDns;
let app: TestApp;
let dns: DnsNames;
let tenant: Tenant;
let zone: string;

test.before(async () => {
  stack = await startDnsStack();
  ({ database, pdns, app } = stack);
  dns = dnsNames(stack);
  tenant = await aTenant(database.db);
  zone = await pdns.aZone('fwd');
  await pdns.client.createZone('2.0.192.in-addr.arpa');
});

test.after(async () => {
  await stack?.stop();
});

const row = (id: string) => database.db.selectFrom('cloud_pod_dns_records').selectAll().where('id', '=', id).executeTakeFirst();
const ready = (r: Awaited<ReturnType<typeof row>>) => r?.conditions.find((c) => c.type === 'Ready');
const answer = async (name: string, type: 'A' | 'AAAA' | 'PTR') =>
  (await queryDns({ host: pdns.dnsHost, port: pdns.dnsPort }, name, type)).answers.map((a) => a.data).sort();
const zoneId = async (name: string) => (await pdns.client.findZone(name))!.id;
const serial = async (name: string) => (await pdns.client.findZone(name))!.serial;
const untilActive = (id: string) => waitFor(`record ${id} active`, () => row(id), (r) => r?.status === 'active');
const resync = (ids: string[]) => database.db.transaction().execute((trx) => dnsRecordKind.enqueue(app.system.jobs, trx, ids));

test('create: A and AAAA become active only once the authoritative server answers with them', async () => {
  const [a, aaaa] = await dns.order(tenant, zone, `web.${zone}`, ['192.0.2.10', '2001:DB8:0:0::0010'], { ttl: 120 });
  assert.is(a!.status, 'pending');
  await untilActive(a!.id);
  const done = await untilActive(aaaa!.id);
  assert.is(done!.ip_address, '2001:db8::10', 'stored in canonical form');
  assert.equal(await answer(`web.${zone}`, 'A'), ['192.0.2.10']);
  assert.equal(await answer(`web.${zone}`, 'AAAA'), ['2001:db8::10']);
  assert.equal([ready(done)!.status, ready(done)!.reason, done!.observed_generation], ['True', 'Served', done!.generation]);
  const [rrset] = await pdns.client.rrsetsAt(await zoneId(zone), `web.${zone}`).then((s) => s.filter((r) => r.type === 'A'));
  assert.equal(rrset!.comments.map((c) => [c.account, c.content]), [['cloudpods', ownerMarker('cloudpods').content]]);
  assert.is(rrset!.ttl, 120);
});

test('two rows of one name make one RRset; a new address re-points; nothing is written when nothing changed', async () => {
  const rows = await dns.order(tenant, zone, `multi.${zone}`, ['192.0.2.21', '192.0.2.22']);
  const one = rows.find((r) => r.ip_address === '192.0.2.21')!;
  const two = rows.find((r) => r.ip_address === '192.0.2.22')!;
  await untilActive(one.id);
  await untilActive(two.id);
  await waitFor('both addresses served', () => answer(`multi.${zone}`, 'A'), (a) => a.length === 2);

  await dns.readdress(two.pod_id!, ['192.0.2.21', '192.0.2.23']);
  await waitFor('the new address served', () => answer(`multi.${zone}`, 'A'),
    (a) => a.join() === '192.0.2.21,192.0.2.23');
  await waitFor('updated row active for its generation', () => row(two.id),
    (r) => r?.status === 'active' && r.observed_generation === r.generation);

  const before = await serial(zone);
  const jobsBefore = await completedReconciles();
  await resync([one.id, two.id]);
  await waitFor('the resync ran', completedReconciles, (n) => n >= jobsBefore + 2);
  assert.is(await serial(zone), before, 'no PATCH: the serial did not move');
});

async function completedReconciles(): Promise<number> {
  const r = await database.db.selectFrom('jobs').select(({ fn }) => fn.countAll<number>().as('n'))
    .where('type', '=', 'dns-record.reconcile').where('status', '=', 'completed').executeTakeFirstOrThrow();
  return Number(r.n);
}

test('PTR: in the matching in-addr.arpa zone when asked; removed with the record', async () => {
  const [rec] = await dns.order(tenant, zone, `mail.${zone}`, ['192.0.2.55'], { ptr: true });
  const active = await untilActive(rec!.id);
  assert.is(active!.conditions.find((c) => c.type === 'PtrReady')?.status, 'True');
  assert.equal(await answer('55.2.0.192.in-addr.arpa', 'PTR'), [`mail.${zone}.`]);

  const [noZone] = await dns.order(tenant, zone, `v4.${zone}`, ['198.51.100.7'], { ptr: true });
  const r = await untilActive(noZone!.id);
  assert.is(r!.conditions.find((c) => c.type === 'PtrReady')?.reason, 'ZoneNotFound', 'no reverse zone: the A record is still served');

  await dns.remove(rec!);
  await waitFor('row removed', () => row(rec!.id), (x) => x === undefined);
  assert.equal(await answer('55.2.0.192.in-addr.arpa', 'PTR'), []);
  assert.equal(await answer(`mail.${zone}`, 'A'), []);
});

test('delete removes only what is ours', async () => {
  const other = await pdns.aZone('del');
  const id = await zoneId(other);
  await pdns.client.patch(id, [{ name: `keep.${other}.`, type: 'A', changetype: 'REPLACE', ttl: 300,
    records: [{ content: '192.0.2.99', disabled: false }], comments: [] }]);
  const [conflicting] = await dns.order(tenant, other, `keep.${other}`, ['192.0.2.1']);
  await waitFor('conflict reported', () => row(conflicting!.id), (r) => r?.status === 'error');
  await dns.remove(conflicting!);
  await waitFor('row removed', () => row(conflicting!.id), (x) => x === undefined);
  assert.equal(await answer(`keep.${other}`, 'A'), ['192.0.2.99'], 'the foreign record is still there');
});

test('conflicts: a foreign record or a CNAME at the name is left untouched and reported', async () => {
  const id = await zoneId(zone);
  await pdns.client.patch(id, [
    { name: `taken.${zone}.`, type: 'A', changetype: 'REPLACE', ttl: 300, records: [{ content: '192.0.2.200', disabled: false }],
      comments: [{ account: 'admin', content: 'made by hand' }] },
    { name: `alias.${zone}.`, type: 'CNAME', changetype: 'REPLACE', ttl: 300, records: [{ content: `web.${zone}.`, disabled: false }],
      comments: [] },
  ]);
  const before = await serial(zone);
  const [taken] = await dns.order(tenant, zone, `taken.${zone}`, ['192.0.2.1']);
  const [alias] = await dns.order(tenant, zone, `alias.${zone}`, ['192.0.2.2']);
  for (const rec of [taken!, alias!]) {
    const r = await waitFor('conflict', () => row(rec.id), (x) => x?.status === 'error');
    assert.is(ready(r)!.reason, 'Conflict');
  }
  assert.match(ready(await row(alias!.id))!.message, /CNAME/);
  assert.equal(await answer(`taken.${zone}`, 'A'), ['192.0.2.200']);
  assert.is(await serial(zone), before, 'nothing was written');
});

test('zone missing: error ZoneNotFound, never created; served once an operator creates it', async () => {
  const name = `later-${process.pid}.test`;
  // Listed as a platform zone, the order accepts it before PowerDNS has it.
  await app.system.settings.update({ 'cloudpods.dns.platform_zones': [name] }, { type: 'system', id: 'test' });
  const [rec] = await dns.order(tenant, name, `app.${name}`, ['192.0.2.77']);
  const r = await waitFor('zone not found', () => row(rec!.id), (x) => x?.status === 'error');
  assert.is(ready(r)!.reason, 'ZoneNotFound');
  assert.is(await pdns.client.findZone(name), null, 'not created');
  await pdns.client.createZone(name);
  await waitFor('zone cache forgets absence', async () => { await resync([rec!.id]); return row(rec!.id); },
    (x) => x?.status === 'active', { timeoutMs: 20_000, intervalMs: 1000 });
  assert.equal(await answer(`app.${name}`, 'A'), ['192.0.2.77']);
  await app.system.settings.update({ 'cloudpods.dns.platform_zones': null }, { type: 'system', id: 'test' });
});

test('drift: a record edited or removed by hand is repaired by the resync and audited', async () => {
  const [rec] = await dns.order(tenant, zone, `drift.${zone}`, ['192.0.2.88']);
  await untilActive(rec!.id);
  const id = await zoneId(zone);
  // Edited through the API, which keeps comments (our marker) when none are sent.
  await pdns.client.patch(id, [{ name: `drift.${zone}.`, type: 'A', changetype: 'REPLACE', ttl: 300,
    records: [{ content: '203.0.113.5', disabled: false }] } as never]);
  await resync([rec!.id]);
  await waitFor('repaired', () => answer(`drift.${zone}`, 'A'), (a) => a.join() === '192.0.2.88');
  await pdns.client.patch(id, [{ name: `drift.${zone}.`, type: 'A', changetype: 'DELETE' }]);
  await resync([rec!.id]);
  await waitFor('recreated', () => answer(`drift.${zone}`, 'A'), (a) => a.join() === '192.0.2.88');
  const audits = await database.db.selectFrom('cloud_pod_audit').selectAll()
    .where('category', '=', 'dns').where('action', '=', 'dns.drift_repaired').execute();
  const mine = audits.filter((a) => (a.details as { record_id?: string }).record_id === rec!.id);
  assert.is(mine.length, 2);
  assert.equal(mine.map((a) => (a.details as { found: unknown }).found), [['203.0.113.5'], null]);
});

test('a name another tenant holds is refused saying only that it is taken', async () => {
  const [first] = await dns.order(tenant, zone, `held.${zone}`, ['192.0.2.30']);
  const other = await aTenant(database.db);
  const refused = await dns.order(other, zone, `held.${zone}`, ['192.0.2.31'])
    .then(() => null, (error: unknown) => error as { status: number; code: string; message: string });
  assert.equal([refused?.status, refused?.code, refused?.message], [409, 'conflict', `held.${zone} is already taken`]);
  await dns.remove(first!);
  await waitFor('held row removed', () => row(first!.id), (x) => x === undefined);
});

test.run();
