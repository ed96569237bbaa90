import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DnsRecordRow } from '../src/db/schema.ts';
import { planDnsName } from '../src/dns/orders.ts';
import { syncPodDnsRecords } from '../src/dns/pod-records.ts';
import { statusOf, wantOf } from '../src/kube/dns-mapping.ts';
import { queryDns } from '../src/powerdns/dns-query.ts';
import { aPod, aTemplate, aTenant } from './support/fixtures.ts';
import { anActiveCloudPod, cloudPod, kindPath, podsPath, readyOf, startKubePlatform, type KubePlatform } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

/** The pure pieces: what a resource's rows must become, and its status from them. */
const mapping = suite('kube DNS records: mapping');

const served4 = { type: 'Ready', status: 'True' as const, reason: 'Served', message: 'served by the authoritative server',
  lastTransitionTime: '2026-01-01T00:00:00.000Z', observedGeneration: 2 };
const aRow = (id: string, fields: Partial<DnsRecordRow> = {}): DnsRecordRow => ({
  id, tenant_id: 't', pod_id: 'p', zone_name: 'example.com', hostname: 'www.example.com', ip_address: '192.0.2.10',
  type: 'A', status: 'active', managed_by: 'kubernetes', generation: 2, observed_generation: 2, conditions: [served4],
  deletion_requested_at: null, kube_uid: 'u', kube_namespace: 'team', kube_name: 'www', created_at: new Date('2026-01-01T00:00:00Z'),
  updated_at: new Date('2026-01-01T00:00:00Z'), ttl: 300, ptr: false, origin: 'api', ...fields });

mapping('planDnsName: addresses of the wanted types, TTL and PTR applied to kept rows', () => {
  const want = wantOf({ podName: 'web', hostname: 'www', zone: 'example.com' }, 300);
  assert.equal(want, { types: ['A', 'AAAA'], ttl: 300, ptr: false });
  const cases: Array<[string, DnsRecordRow[], string[], Parameters<typeof planDnsName>[2], ReturnType<typeof planDnsName>]> = [
    ['as wanted', [aRow('a')], ['192.0.2.10'], want, { create: [], stale: [], update: [] }],
    ['a new address of another family', [aRow('a')], ['192.0.2.10', '2001:db8::1'], want,
      { create: [{ type: 'AAAA', ip: '2001:db8::1' }], stale: [], update: [] }],
    ['an address gone, another come', [aRow('a')], ['192.0.2.11'], want,
      { create: [{ type: 'A', ip: '192.0.2.11' }], stale: ['a'], update: [] }],
    ['no address of a family left: its rows stay', [aRow('a'), aRow('b', { type: 'AAAA', ip_address: '2001:db8::1' })],
      ['192.0.2.10'], want, { create: [], stale: [], update: [] }],
    ['a type no longer wanted', [aRow('a'), aRow('b', { type: 'AAAA', ip_address: '2001:db8::1' })],
      ['192.0.2.10', '2001:db8::1'], { ...want, types: ['A'] }, { create: [], stale: ['b'], update: [] }],
    ['TTL and PTR changed', [aRow('a')], ['192.0.2.10'], { ...want, ttl: 60, ptr: true },
      { create: [], stale: [], update: [{ id: 'a', ttl: 60, ptr: true }] }],
  ];
  for (const [name, rows, addresses, wanted, plan] of cases) assert.equal(planDnsName(rows, addresses, wanted), plan, name);
});

mapping('statusOf: phase and Ready from every row; observedGeneration only when converged and as the spec asks', () => {
  const resource = { metadata: { generation: 5 }, status: { observedGeneration: 4 } };
  const both = [aRow('a'), aRow('b', { ip_address: '192.0.2.11',
    conditions: [{ ...served4, lastTransitionTime: '2026-01-02T00:00:00.000Z' }] })];
  const ready = statusOf(both, true, resource);
  assert.equal(ready, { phase: 'active', observedGeneration: 5, addresses: ['192.0.2.10', '192.0.2.11'],
    conditions: [{ ...served4, lastTransitionTime: '2026-01-02T00:00:00.000Z', observedGeneration: 5 }] });
  assert.is(statusOf(both, false, resource).observedGeneration, 4, 'rows not yet as the spec asks');
  const conflict = { ...served4, status: 'False' as const, reason: 'Conflict', message: 'a foreign record' };
  const broken = statusOf([aRow('a'), aRow('b', { ip_address: '192.0.2.11', status: 'error', conditions: [conflict] }),
    aRow('c', { ip_address: '192.0.2.12', status: 'pending', generation: 3, conditions: [] })], true, resource);
  assert.equal([broken.phase, broken.observedGeneration, broken.addresses, broken.conditions?.[0]?.reason],
    ['error', 4, ['192.0.2.10'], 'Conflict']);
  const fresh = statusOf([aRow('c', { status: 'pending', generation: 1, observed_generation: 0, conditions: [] })], true, {
    metadata: { generation: 1 } });
  assert.equal([fresh.phase, fresh.observedGeneration, fresh.conditions?.[0]?.status, fresh.conditions?.[0]?.reason],
    ['pending', undefined, 'Unknown', 'Pending']);
});

mapping.run();

/**
 * CloudPodDNSRecord resources through the bridge, end to end: a real PostgreSQL and PowerDNS, the Proxmox
 * simulator and the fake kube-apiserver. What counts is what a user sees: the resource's status and events, the
 * answer of the authoritative DNS port, and the REST API. The tests name the CloudPod web-1, applied before them;
 * each applies the records it works on.
 */
const test = suite('kube DNS records');
let k: KubePlatform;
let zone: string;
let forbiddenZone: string;
/** web-1's IPv4 addresses and its id in the REST API. */
let webIps: string[];
let podId: string;

test.before(async () => {
  k = await startKubePlatform({}, { powerDns: true });
  zone = await k.pdns!.aZone('kube');
  forbiddenZone = await k.pdns!.aZone('nope');
  await k.platform.app.system.settings.update({ 'cloudpods.dns.tenant_zones': { [k.platform.tenant.slug]: [zone] } },
    { type: 'system', id: 'test' });
  const pod = await anActiveCloudPod(k, 'web-1');
  webIps = ipv4(pod.status.ipAddresses);
  podId = pod.status.podId;
});
test.after(async () => { await k?.stop(); });

const dnsPath = (name = '', namespace = k.namespace) => kindPath('cloudpoddnsrecords', namespace, name);
const dnsRecord = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'cloudpods.mpanel.io/v1alpha1', kind: 'CloudPodDNSRecord', metadata: { name }, spec });
const waitRecord = (name: string, what: string, accept: (r: any) => boolean, { namespace = k.namespace, timeoutMs = 30_000 } = {}) =>
  waitFor(`CloudPodDNSRecord ${name} ${what}`, async () => (await k.call('GET', dnsPath(name, namespace))).body, accept,
    { timeoutMs, intervalMs: 100 });
const served = async (name: string, type: 'A' | 'AAAA' = 'A') =>
  (await queryDns({ host: k.pdns!.dnsHost, port: k.pdns!.dnsPort }, name, type)).answers.map((a) => [a.data, a.ttl]);
const rowsOf = (uid: string) => k.platform.database.db.selectFrom('cloud_pod_dns_records').selectAll()
  .where('kube_uid', '=', uid).orderBy('ip_address').execute();
const eventsOf = async (uid: string) => (await k.call('GET', `/apis/events.k8s.io/v1/namespaces/${k.namespace}/events`)).body.items
  .filter((e: any) => e.regarding.uid === uid).sort((a: any, b: any) => a.eventTime.localeCompare(b.eventTime));
const ipv4 = (addresses: string[]) => addresses.filter((ip) => ip.includes('.')).sort();

/** Applies a CloudPodDNSRecord for web-1 and waits until it is Ready for its first generation; returns its uid. */
async function aServedRecord(name: string, spec: Record<string, unknown> = {}): Promise<string> {
  const created = await k.call('POST', dnsPath(), dnsRecord(name, { podName: 'web-1', hostname: name, zone, ...spec }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  await waitRecord(name, 'Ready', (r) => readyOf(r)?.status === 'True' && r.status.observedGeneration === 1);
  return created.body.metadata.uid;
}

test('a CloudPodDNSRecord for a CloudPod is Ready and served at the pod\'s address, by rows of the resource', async () => {
  assert.ok(webIps.length > 0, 'the pod has an IPv4 address');

  const created = await k.call('POST', dnsPath(), dnsRecord('www', { podName: 'web-1', hostname: 'www', zone, ttl: 120 }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const wwwUid = created.body.metadata.uid;
  const resource = await waitRecord('www', 'Ready', (r) => readyOf(r)?.status === 'True' && r.status.observedGeneration === 1);
  assert.equal(resource.metadata.finalizers, ['cloudpods.mpanel.io/finalizer']);
  assert.equal([resource.status.phase, resource.status.addresses, readyOf(resource).observedGeneration], ['active', webIps, 1]);
  assert.equal(await served(`www.${zone}`), webIps.map((ip) => [ip, 120]));

  const rows = await rowsOf(wwwUid);
  assert.equal(rows.map((r) => [r.managed_by, r.kube_namespace, r.kube_name, r.hostname, r.type, r.ip_address, r.origin, r.pod_id]),
    webIps.map((ip) => ['kubernetes', k.namespace, 'www', `www.${zone}`, 'A', ip, 'api', podId]));
  const reasons = (await eventsOf(wwwUid)).map((e: any) => e.reason);
  assert.ok(reasons.includes('Created') && reasons.includes('Ready'), reasons.join(','));
});

test('a TTL change is applied to the same rows and served; observedGeneration follows', async () => {
  const uid = await aServedRecord('retimed', { ttl: 120 });
  const before = (await rowsOf(uid)).map((r) => r.id);
  const patched = await k.call('PATCH', dnsPath('retimed'), { spec: { ttl: 600 } }, 'application/merge-patch+json');
  assert.is(patched.body.metadata.generation, 2);
  await waitRecord('retimed', 'observed generation 2', (r) => r.status?.observedGeneration === 2 && readyOf(r)?.status === 'True');
  assert.equal(await served(`retimed.${zone}`), webIps.map((ip) => [ip, 600]));
  const rows = await rowsOf(uid);
  assert.equal(rows.map((r) => [r.id, r.ttl]), before.map((id) => [id, 600]));
});

test('REST lists the records of a CloudPodDNSRecord and refuses to delete them (409 managed_by_kubernetes)', async () => {
  await aServedRecord('listed', { ttl: 600 });
  const token = k.platform.token;
  const listed = await k.platform.app.request('GET', `/api/cloud-pods/${podId}/dns-records`, { token });
  const www = listed.body.records.filter((r: any) => r.hostname === `listed.${zone}`);
  assert.equal(www.map((r: any) => [r.ip_address, r.ttl, r.status]), webIps.map((ip) => [ip, 600, 'active']));
  for (const record of www) {
    const response = await k.platform.app.request('DELETE', `/api/cloud-pods/${podId}/dns-records/${record.id}`, { token });
    assert.equal([response.status, response.body.error?.code], [409, 'managed_by_kubernetes']);
    assert.match(response.body.error.message, `${k.namespace}/listed`);
  }
  assert.equal(await served(`listed.${zone}`), webIps.map((ip) => [ip, 600]), 'still served');
});

test('rows the pod controller adds for a new address of the pod keep the resource\'s identity', async () => {
  const uid = await aServedRecord('followed', { ttl: 600 });
  const extra = '192.0.2.99';
  const rolledBack = new Error('rolled back');
  await k.platform.database.db.transaction().execute(async (trx) => {
    const pod = await trx.selectFrom('cloud_pods').selectAll().where('id', '=', podId).executeTakeFirstOrThrow();
    await syncPodDnsRecords(trx, k.platform.app.system.jobs, { ...pod, ip_addresses: [...pod.ip_addresses, extra] });
    const rows = await trx.selectFrom('cloud_pod_dns_records').selectAll().where('hostname', '=', `followed.${zone}`)
      .where('deletion_requested_at', 'is', null).orderBy('ip_address').execute();
    assert.equal(rows.map((r) => [r.ip_address, r.managed_by, r.kube_uid, r.kube_name, r.ttl]),
      [extra, ...webIps].sort().map((ip) => [ip, 'kubernetes', uid, 'followed', 600]));
    throw rolledBack;
  }).catch((error: unknown) => { if (error !== rolledBack) throw error; });
});

test('a record applied before its pod reports PodNotFound, then PodHasNoAddress, and is served once the pod has an address', async () => {
  const created = await k.call('POST', dnsPath(), dnsRecord('api', { podName: 'web-2', hostname: 'api', zone }));
  await waitRecord('api', 'PodNotFound', (r) => readyOf(r)?.reason === 'PodNotFound');
  await k.call('POST', podsPath(k.namespace), cloudPod('web-2', { powerState: 'stopped' }));
  const waiting = await waitRecord('api', 'PodHasNoAddress', (r) => readyOf(r)?.reason === 'PodHasNoAddress');
  assert.equal([readyOf(waiting).status, waiting.status.phase], ['False', 'pending']);
  assert.equal(await rowsOf(created.body.metadata.uid), [], 'nothing ordered yet');
  const warnings = (await eventsOf(created.body.metadata.uid)).filter((e: any) => e.type === 'Warning').map((e: any) => e.reason);
  assert.equal(warnings, ['PodNotFound', 'PodHasNoAddress']);

  await k.call('PATCH', podsPath(k.namespace, 'web-2'), { spec: { powerState: 'running' } }, 'application/merge-patch+json');
  const resource = await waitRecord('api', 'Ready', (r) => readyOf(r)?.status === 'True');
  const pod = (await k.call('GET', podsPath(k.namespace, 'web-2'))).body;
  assert.equal(resource.status.addresses, ipv4(pod.status.ipAddresses));
  const defaultTtl = await k.platform.app.system.settings.getNumber('cloudpods.dns.default_ttl');
  assert.equal(await served(`api.${zone}`), ipv4(pod.status.ipAddresses).map((ip) => [ip, defaultTtl]));
});

test('zones the tenant may not use, or the platform does not serve, and names of other tenants are refused; nothing written', async () => {
  const other = await aTenant(k.platform.database.db);
  const theirs = await aPod(k.platform.database.db, { tenant: other, template: await aTemplate(k.platform.database.db) });
  await k.platform.database.db.insertInto('cloud_pod_dns_records').values({ tenant_id: other.id, pod_id: theirs.id,
    zone_name: zone, hostname: `taken.${zone}`, ip_address: '192.0.2.77', type: 'A', origin: 'api' }).execute();
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['forbidden', { podName: 'web-1', hostname: 'x', zone: forbiddenZone }, 'ZoneNotAllowed'],
    ['unserved', { podName: 'web-1', hostname: 'x', zone: 'unknown-zone.test' }, 'SpecInvalid'],
    ['outside', { podName: 'web-1', hostname: 'www.example.org', zone }, 'SpecInvalid'],
    ['taken', { podName: 'web-1', hostname: 'taken', zone }, 'NameConflict'],
  ];
  for (const [name, spec, reason] of cases) {
    const created = await k.call('POST', dnsPath(), dnsRecord(name, spec));
    const resource = await waitRecord(name, reason, (r) => readyOf(r)?.reason === reason, { timeoutMs: 10_000 });
    assert.equal([readyOf(resource).status, resource.status.phase], ['False', 'pending'], name);
    assert.equal(await rowsOf(created.body.metadata.uid), [], `${name}: nothing written`);
  }
  assert.equal(await served(`x.${forbiddenZone}`), []);
  for (const [name] of cases) await k.call('DELETE', dnsPath(name));
  for (const [name] of cases) await waitRecord(name, 'gone', (r) => r.code === 404, { timeoutMs: 10_000 });
});

test('deleting the resource stops serving the name first, then releases the finalizer', async () => {
  // Edited once first, so the audit shows each kind of change the bridge makes.
  const uid = await aServedRecord('doomed');
  await k.call('PATCH', dnsPath('doomed'), { spec: { ttl: 600 } }, 'application/merge-patch+json');
  await waitRecord('doomed', 'observed generation 2', (r) => r.status?.observedGeneration === 2);
  const deleting = await k.call('DELETE', dnsPath('doomed'));
  assert.ok(deleting.body.metadata.deletionTimestamp, 'held by the finalizer');
  await waitRecord('doomed', 'gone', (r) => r.code === 404);
  assert.equal(await served(`doomed.${zone}`), [], 'the name is no longer served');
  assert.equal(await rowsOf(uid), []);
  const reasons = (await eventsOf(uid)).map((e: any) => e.reason);
  assert.ok(reasons.indexOf('Deleting') >= 0 && reasons.indexOf('Deleting') < reasons.indexOf('Deleted'), reasons.join(','));
  const audit = await k.platform.database.db.selectFrom('cloud_pod_audit').select(['action', 'actor_type'])
    .where('category', '=', 'dns').where('pod_id', '=', podId).where(sql<boolean>`details->>'hostname' = ${`doomed.${zone}`}`)
    .orderBy('id').execute();
  assert.equal(audit.map((a) => [a.action, a.actor_type]),
    [['dns.record_added', 'kubernetes'], ['dns.record_updated', 'kubernetes'], ['dns.record_deleted', 'kubernetes']]);
});

test('a resource in an unlabelled namespace only reports TenantUnknown', async () => {
  await k.call('POST', '/api/v1/namespaces', { metadata: { name: 'stray' } });
  const created = await k.call('POST', dnsPath('', 'stray'), dnsRecord('lost', { podName: 'web-1', hostname: 'lost', zone }));
  const resource = await waitRecord('lost', 'TenantUnknown', (r) => readyOf(r)?.reason === 'TenantUnknown',
    { namespace: 'stray', timeoutMs: 10_000 });
  assert.is(readyOf(resource).status, 'False');
  assert.equal(await rowsOf(created.body.metadata.uid), []);
  assert.equal(await served(`lost.${zone}`), []);
});

test.run();
