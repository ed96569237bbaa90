import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { queryDns } from '../src/powerdns/dns-query.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { startTestPowerDns, type TestPowerDns } from './support/powerdns.ts';
import { assertConformanceAfterEach } from './support/proxmox-sim.ts';
import { waitFor } from './support/wait.ts';

/** Spec 8 events: a pod with a hostname is served by PowerDNS once its IPs are known, and not after it is gone. */
const test = suite('pods and their DNS names');
let pdns: TestPowerDns;
let platform: Platform;
let zone: string;

test.before(async () => {
  pdns = await startTestPowerDns();
  zone = await pdns.aZone('pods');
  platform = await startPlatform({ config: pdns.overrides });
  await platform.app.system.settings.update({ 'cloudpods.dns.tenant_zones': { acme: [zone] } },
    { type: 'system', id: 'test' });
});

test.after(async () => {
  await platform?.stop();
  await pdns?.close();
});
assertConformanceAfterEach(test, () => platform?.sim);

const served = async (name: string) =>
  (await queryDns({ host: pdns.dnsHost, port: pdns.dnsPort }, name, 'A')).answers.map((a) => a.data);

test('a zone the tenant may not use is refused at order time, writing nothing', async () => {
  const response = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token, body: {
    name: 'elsewhere', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10,
    hostname: 'www.not-ours.test', zone: 'not-ours.test' } });
  assert.is(response.status, 400);
  assert.equal(response.body.error.details.fields.map((f: any) => f.name), ['zone']);
});

test('a served zone the tenant may not use is 403 naming the zone; a dotted name alone goes in the longest usable zone', async () => {
  const theirs = await pdns.aZone('theirs');
  const order = (name: string, fields: Record<string, unknown>) => platform.app.request('POST', '/api/cloud-pods', {
    token: platform.token, body: { name, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10, ...fields } });
  const forbidden = await order('theirs', { hostname: 'www', zone: theirs });
  assert.equal([forbidden.status, forbidden.body.error.code], [403, 'forbidden']);
  assert.equal(forbidden.body.error.details.fields.map((f: any) => f.name), ['zone']);
  const unusable = await order('theirs', { hostname: `www.${theirs}` });
  assert.equal([unusable.status, unusable.body.error.details.fields.map((f: any) => f.name)], [400, ['zone']]);
  assert.is(await platform.database.db.selectFrom('cloud_pods').select('id').where('name', '=', 'theirs').executeTakeFirst(),
    undefined, 'nothing written');

  await pdns.client.createZone(`eu.${zone}`, { kind: 'Native' });
  const inner = await order('inner', { hostname: `web.eu.${zone}` });
  assert.is(inner.status, 202, JSON.stringify(inner.body));
  assert.equal([inner.body.pod.spec.hostname, inner.body.pod.spec.zone], [`web.eu.${zone}`, `eu.${zone}`]);
  const outer = await order('outer', { hostname: `web.${zone}` });
  assert.equal([outer.body.pod.spec.hostname, outer.body.pod.spec.zone], [`web.${zone}`, zone]);
  for (const pod of [inner.body.pod, outer.body.pod]) {
    await platform.app.request('DELETE', `/api/cloud-pods/${pod.id}`, { token: platform.token });
  }
});

test('PATCH of the hostname: the records follow a change, and go when it is removed', async () => {
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token, body: {
    name: 'renamed', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10, hostname: 'first', zone } });
  assert.is(created.status, 202, JSON.stringify(created.body));
  const pod = await waitForPod(platform, created.body.pod.id, 'active', (p) => p?.status.phase === 'active');
  const ipv4 = pod.status.ip_addresses.filter((ip: string) => ip.includes('.'));
  await waitFor('first served', () => served(`first.${zone}`), (a) => a.length > 0);

  const patch = (body: Record<string, unknown>) => platform.app.request('PATCH', `/api/cloud-pods/${pod.id}`,
    { token: platform.token, body });
  assert.is((await patch({ hostname: 'second' })).status, 202);
  assert.equal(await waitFor('second served', () => served(`second.${zone}`), (a) => a.length > 0), ipv4);
  await waitFor('first no longer served', () => served(`first.${zone}`), (a) => a.length === 0);
  const records = async () => (await platform.app.request('GET', `/api/cloud-pods/${pod.id}/dns-records`,
    { token: platform.token })).body.records.map((r: any) => r.hostname);
  await waitFor('only the new name listed', records, (names) => names.join() === `second.${zone}`);

  assert.is((await patch({ hostname: null })).status, 202);
  await waitFor('second no longer served', () => served(`second.${zone}`), (a) => a.length === 0);
  await waitFor('no records left', records, (names) => names.length === 0);
  await platform.app.request('DELETE', `/api/cloud-pods/${pod.id}`, { token: platform.token });
  await waitForPod(platform, pod.id, 'gone', (p) => p === null, 30_000);
});

test('an active pod with a hostname is served its A record; deleting the pod removes it first', async () => {
  const hostname = `web.${zone}`;
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token, body: {
    name: 'web', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10, hostname, zone } });
  assert.is(created.status, 202, JSON.stringify(created.body));
  const pod = await waitForPod(platform, created.body.pod.id, 'active', (p) => p?.status.phase === 'active');
  const answer = await waitFor(`${hostname} to be served`, () => served(hostname), (a) => a.length > 0);
  assert.equal(answer, pod.status.ip_addresses.filter((ip: string) => ip.includes('.')));
  // Served first, then marked active once the controller has seen the authoritative answer.
  const records = await waitFor(`${hostname} to be active`, async () => (await platform.app.request('GET',
    `/api/cloud-pods/${pod.id}/dns-records`, { token: platform.token })).body.records, (rows: any[]) => rows[0]?.status === 'active');
  assert.equal(records.map((r: any) => [r.hostname, r.type, r.status]), [[hostname, 'A', 'active']]);

  await platform.app.request('DELETE', `/api/cloud-pods/${pod.id}`, { token: platform.token });
  await waitForPod(platform, pod.id, 'gone', (p) => p === null, 30_000);
  assert.equal(await served(hostname), [], 'the name is no longer served');
});

test.run();
