import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deletePodDnsRecords, podDnsRecordsGone, syncPodDnsRecords, type PodForDns } from '../src/dns/pod-records.ts';
import { queryDns, type QueryType } from '../src/powerdns/dns-query.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import type { TestApp } from './support/app.ts';
import { aPod, aTemplate, aTenant } from './support/fixtures.ts';
import type { TestPowerDns } from './support/powerdns.ts';
import type { TestDatabase } from './support/postgres.ts';
import { startDnsStack, type DnsStack } from './support/dns-stack.ts';
import { waitFor } from './support/wait.ts';

const test = suite('pod DNS records');
let stack: DnsStack;
let database: TestDatabase;
let pdns: TestPowerDns;
let app: TestApp;
let tenant: Tenant;
let zone: string;

test.before(async () => {
  stack = await startDnsStack();
  ({ database, pdns, app } = stack);
  tenant = await aTenant(database.db);
  zone = await pdns.aZone('pods');
});

test.after(async () => {
  await stack?.stop();
});

const served = async (name: string, type: QueryType) =>
  (await queryDns({ host: pdns.dnsHost, port: pdns.dnsPort }, name, type)).answers.map((a) => a.data).sort().join(',');
const rows = (podId: string) => database.db.selectFrom('cloud_pod_dns_records').selectAll().where('pod_id', '=', podId)
  .orderBy('type').execute();
const sync = (pod: PodForDns) => database.db.transaction().execute((trx) => syncPodDnsRecords(trx, app.system.jobs, pod));

test('a pod gets A and AAAA records once its addresses are known; a change updates them; deletion removes them', async () => {
  const row = await aPod(database.db, { tenant, template: await aTemplate(database.db) });
  const pod: PodForDns = { id: row.id, tenant_id: tenant.id, hostname: `app.${zone}`, zone, ip_addresses: [] };
  assert.equal(await sync(pod), { created: 0, updated: 0, deleted: 0, conflicts: [] }, 'no address, no record');

  const first = await sync({ ...pod, ip_addresses: ['192.0.2.31', '2001:0db8::31'] });
  assert.is(first.created, 2);
  await waitFor('both served', async () => [await served(`app.${zone}`, 'A'), await served(`app.${zone}`, 'AAAA')],
    (v) => v[0] === '192.0.2.31' && v[1] === '2001:db8::31');
  const again = await sync({ ...pod, ip_addresses: ['192.0.2.31', '2001:db8::31'] });
  assert.equal(again, { created: 0, updated: 0, deleted: 0, conflicts: [] }, 'unchanged addresses change nothing');

  const ids = (await rows(pod.id)).map((r) => r.id);
  const changed = await sync({ ...pod, ip_addresses: ['192.0.2.32'] });
  assert.equal([changed.updated, changed.deleted], [1, 1]);
  await waitFor('new address served, AAAA gone', async () => [await served(`app.${zone}`, 'A'), await served(`app.${zone}`, 'AAAA')],
    (v) => v[0] === '192.0.2.32' && v[1] === '');
  await waitFor('the AAAA row removed', () => rows(pod.id), (r) => r.length === 1);
  assert.is((await rows(pod.id))[0]!.id, ids[0], 'the A row was re-pointed, not replaced');
  assert.is(await podDnsRecordsGone(database.db, pod.id), false);

  await database.db.transaction().execute((trx) => deletePodDnsRecords(trx, app.system.jobs, pod.id));
  await waitFor('all rows gone', () => podDnsRecordsGone(database.db, pod.id), (gone) => gone);
  assert.is(await served(`app.${zone}`, 'A'), '');
  // Now the pod row itself may go (the foreign key would refuse while records remained).
  await database.db.deleteFrom('cloud_pods').where('id', '=', pod.id).execute();
});

test('a hostname another tenant holds is reported, not taken', async () => {
  const template = await aTemplate(database.db);
  const mine = await aPod(database.db, { tenant, template });
  const other = await aTenant(database.db);
  const theirs = await aPod(database.db, { tenant: other, template });
  await sync({ id: theirs.id, tenant_id: other.id, hostname: `shared.${zone}`, zone, ip_addresses: ['192.0.2.50'] });
  const result = await sync({ id: mine.id, tenant_id: tenant.id, hostname: `shared.${zone}`, zone, ip_addresses: ['192.0.2.51'] });
  assert.equal(result.conflicts, [`shared.${zone}`]);
  assert.is((await rows(mine.id)).length, 0);
  await waitFor('theirs served', () => served(`shared.${zone}`, 'A'), (v) => v === '192.0.2.50');
});

test.run();
