import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkDnsHealth } from '../src/dns/health.ts';
import { createLogger } from '../src/observability/logger.ts';
import type { TestApp } from './support/app.ts';
import { aTenant } from './support/fixtures.ts';
import type { TestPowerDns } from './support/powerdns.ts';
import type { TestDatabase } from './support/postgres.ts';
import { dnsNames } from './support/dns-names.ts';
import { startDnsStack, type DnsStack } from './support/dns-stack.ts';
import { waitFor } from './support/wait.ts';

const test = suite('DNS health check');
let stack: DnsStack;
let database: TestDatabase;
let pdns: TestPowerDns;
let app: TestApp;

test.before(async () => {
  stack = await startDnsStack({ logLevel: 'silent' });
  ({ database, pdns, app } = stack);
});

test.after(async () => {
  await stack?.stop();
});

test('an active record no longer served is marked error and audited; served ones are left alone', async () => {
  const tenant = await aTenant(database.db);
  const zone = await pdns.aZone('health');
  const dns = dnsNames(stack);
  const [kept] = await dns.order(tenant, zone, `kept.${zone}`, ['192.0.2.1']);
  const [lost] = await dns.order(tenant, zone, `lost.${zone}`, ['192.0.2.2']);
  const rows = () => database.db.selectFrom('cloud_pod_dns_records').selectAll().where('id', 'in', [kept!.id, lost!.id])
    .orderBy('hostname').execute();
  await waitFor('both active', rows, (r) => r.every((x) => x.status === 'active'));

  // The zone is taken away behind our back: nothing can be served from it any more.
  await app.stop();
  await pdns.client.patch((await pdns.client.findZone(zone))!.id, [{ name: `lost.${zone}.`, type: 'A', changetype: 'DELETE' }]);
  const failing = await checkDnsHealth(database.db, pdns.context(), createLogger({ level: 'silent' }));
  assert.equal(failing, [lost!.id]);
  const [k, l] = await rows();
  assert.equal([k!.status, l!.status], ['active', 'error']);
  assert.is(l!.conditions.find((c) => c.type === 'Ready')?.reason, 'NotServed');
  const audit = await database.db.selectFrom('cloud_pod_audit').selectAll().where('action', '=', 'dns.health_check_failed').execute();
  assert.equal(audit.map((x) => [x.category, (x.details as { record_id: string }).record_id]), [['dns', lost!.id]]);
});

test.run();
