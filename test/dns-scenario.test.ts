import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dnsController } from '../controllers/dns-record/register.ts';
import { insertRecords, markForDeletion } from '../src/dns/records.ts';
import { createLogger } from '../src/observability/logger.ts';
import { PowerDnsClient } from '../src/powerdns/client.ts';
import { ownerMarker } from '../src/powerdns/ownership.ts';
import type { PowerDns } from '../src/powerdns/context.ts';
import { ZoneReader } from '../src/powerdns/reader.ts';
import { ZoneWriter } from '../src/powerdns/writer.ts';
import { ZoneDirectory } from '../src/powerdns/zones.ts';
import { buildController, type Controller } from '../src/runtime/kit.ts';
import { aTenant } from './support/fixtures.ts';
import { startTestPowerDns, type TestPowerDns } from './support/powerdns.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { recordingClient, type Recording } from './support/recording-client.ts';

/** The dns-record controller's exact PowerDNS API calls, on a recording client in front of a real PowerDNS. */
const test = suite('dns-record controller scenarios: the exact PowerDNS calls');
let database: TestDatabase;
let server: TestPowerDns;
let recorder: Recording<PowerDnsClient>;
let controller: Controller;
let zone: string;
let zoneId: string;
const context = { signal: new AbortController().signal, attempt: 1 };

test.before(async () => {
  database = await testDatabase();
  server = await startTestPowerDns();
  zone = await server.aZone('scenario');
  zoneId = (await server.client.findZone(zone))!.id;
  recorder = recordingClient(new PowerDnsClient({ apiUrl: server.apiUrl, apiKey: server.apiKey }));
  const pdns: PowerDns = { client: recorder.client, reader: new ZoneReader(recorder.client),
    writer: new ZoneWriter(recorder.client, { serializeServer: true }), zones: new ZoneDirectory(recorder.client),
    dnsServer: { host: server.dnsHost, port: server.dnsPort }, ownerId: 'cloudpods' };
  controller = buildController({ db: database.db, logger: createLogger({ level: 'silent' }) },
    dnsController({ db: database.db, pdns, resyncEveryMs: 3_600_000 }));
});
test.after(async () => {
  await server?.close();
  await database?.drop();
});

const row = (id: string) => database.db.selectFrom('cloud_pod_dns_records').selectAll().where('id', '=', id).executeTakeFirst();

test('a new A record: one look, one REPLACE carrying our marker, one look that it landed; settled, one look only', async () => {
  const tenant = await aTenant(database.db);
  const [record] = await insertRecords(database.db, [{ tenant_id: tenant.id, pod_id: null, zone_name: zone,
    hostname: `web.${zone}`, ip_address: '192.0.2.10', type: 'A', ttl: 120 }]);
  assert.equal(await controller.reconcile(record!.id, context), { requeueAfterMs: null });
  const name = `web.${zone}.`;
  assert.equal(recorder.take(), [
    `findZone(${zone}.)`, `rrsetsAt(${zoneId}, ${name})`,
    `patch(${zoneId}, ${JSON.stringify([{ name, type: 'A', changetype: 'REPLACE', ttl: 120,
      records: [{ content: '192.0.2.10', disabled: false }],
      comments: [ownerMarker('cloudpods')] }])})`,
    `rrsetsAt(${zoneId}, ${name})`,
  ]);
  const served = await row(record!.id);
  assert.equal([served?.status, served?.conditions.find((c) => c.type === 'Ready')?.reason], ['active', 'Served']);

  await controller.reconcile(record!.id, context);
  assert.equal(recorder.take(), [`rrsetsAt(${zoneId}, ${name})`], 'a served record costs one read (the zone is cached)');

  await markForDeletion(database.db, [record!.id]);
  assert.equal(await controller.reconcile(record!.id, context), { requeueAfterMs: null });
  assert.equal(recorder.take(), [`rrsetsAt(${zoneId}, ${name})`,
    `patch(${zoneId}, ${JSON.stringify([{ name, type: 'A', changetype: 'DELETE' }])})`, `rrsetsAt(${zoneId}, ${name})`]);
  assert.is(await row(record!.id), undefined, 'the row goes once the server no longer answers');
});

test('a foreign record in the way: one look, no write, Conflict', async () => {
  const tenant = await aTenant(database.db);
  const name = `taken.${zone}.`;
  await server.client.patch(zoneId, [{ name, type: 'A', changetype: 'REPLACE', ttl: 300,
    records: [{ content: '198.51.100.7', disabled: false }], comments: [] }]);
  const [record] = await insertRecords(database.db, [{ tenant_id: tenant.id, pod_id: null, zone_name: zone,
    hostname: `taken.${zone}`, ip_address: '192.0.2.11', type: 'A' }]);
  recorder.take();
  await controller.reconcile(record!.id, context);
  assert.equal(recorder.take(), [`rrsetsAt(${zoneId}, ${name})`], 'never written');
  assert.is((await row(record!.id))?.conditions.find((c) => c.type === 'Ready')?.reason, 'Conflict');
});

test.run();
