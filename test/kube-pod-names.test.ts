import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { queryDns } from '../src/powerdns/dns-query.ts';
import { cloudPod, podsPath, readyOf, startKubePlatform, type KubePlatform } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

/**
 * A CloudPod's hostname and zone through the bridge: the zone rules are the pod order's, so the Kubernetes door
 * refuses what REST refuses, and a name set, changed or removed in the spec is what PowerDNS serves.
 */
const test = suite('kube pod names');
let k: KubePlatform;
let zone: string;
let forbiddenZone: string;

test.before(async () => {
  k = await startKubePlatform({}, { powerDns: true });
  zone = await k.pdns!.aZone('kpods');
  forbiddenZone = await k.pdns!.aZone('kforbidden');
  await k.platform.app.system.settings.update({ 'cloudpods.dns.tenant_zones': { [k.platform.tenant.slug]: [zone] } },
    { type: 'system', id: 'test' });
});
test.after(async () => { await k?.stop(); });

const get = (name: string) => k.call('GET', podsPath(k.namespace, name));
const waitResource = (name: string, what: string, accept: (r: any) => boolean, timeoutMs = 30_000) =>
  waitFor(`CloudPod ${name} ${what}`, async () => (await get(name)).body, accept, { timeoutMs, intervalMs: 100 });
const rowOf = (uid: string) => k.platform.database.db.selectFrom('cloud_pods').selectAll().where('kube_uid', '=', uid)
  .executeTakeFirst();
const served = async (name: string) =>
  (await queryDns({ host: k.pdns!.dnsHost, port: k.pdns!.dnsPort }, name, 'A')).answers.map((a) => a.data);
const editSpec = (name: string, spec: Record<string, unknown>) =>
  k.call('PATCH', podsPath(k.namespace, name), { spec }, 'application/merge-patch+json');

test('a spec.zone the tenant may not use is refused as ZoneNotAllowed, with no row', async () => {
  const created = await k.call('POST', podsPath(k.namespace), cloudPod('elsewhere', { hostname: 'www', zone: forbiddenZone }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const resource = await waitResource('elsewhere', 'ZoneNotAllowed', (r) => readyOf(r)?.reason === 'ZoneNotAllowed', 10_000);
  assert.is(readyOf(resource).status, 'False');
  assert.match(readyOf(resource).message, new RegExp(`may not use the zone ${forbiddenZone}`));
  assert.is(await rowOf(created.body.metadata.uid), undefined, 'no row, nothing provisioned');
  const events = (await k.call('GET', `/apis/events.k8s.io/v1/namespaces/${k.namespace}/events`)).body.items;
  assert.ok(events.some((e: any) => e.reason === 'ZoneNotAllowed' && e.type === 'Warning'
    && e.regarding.uid === created.body.metadata.uid));
  await k.call('DELETE', podsPath(k.namespace, 'elsewhere'));
  await waitResource('elsewhere', 'gone', (r) => r.code === 404, 10_000);
});

test('a bare label in spec.zone is served; the spec may change, remove and set the hostname again, records following', async () => {
  const created = await k.call('POST', podsPath(k.namespace), cloudPod('named', { hostname: 'first', zone }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const uid = created.body.metadata.uid;
  const resource = await waitResource('named', 'Ready', (r) => readyOf(r)?.status === 'True' && r.status.phase === 'active');
  const ipv4 = resource.status.ipAddresses.filter((ip: string) => ip.includes('.'));
  assert.equal(await waitFor('first served', () => served(`first.${zone}`), (a) => a.length > 0), ipv4);
  assert.equal([(await rowOf(uid))!.hostname, (await rowOf(uid))!.zone], [`first.${zone}`, zone]);

  const changed = await editSpec('named', { hostname: `second.${zone}` });
  assert.is(changed.status, 200, JSON.stringify(changed.body));
  await waitFor('second served', () => served(`second.${zone}`), (a) => a.length > 0);
  await waitFor('first no longer served', () => served(`first.${zone}`), (a) => a.length === 0);
  await waitResource('named', 'observed generation 2', (r) => r.status?.observedGeneration === 2 && readyOf(r)?.status === 'True');

  assert.is((await editSpec('named', { hostname: null, zone: null })).status, 200, 'hostname and zone may be removed');
  await waitFor('second no longer served', () => served(`second.${zone}`), (a) => a.length === 0);
  await waitResource('named', 'observed generation 3', (r) => r.status?.observedGeneration === 3);
  assert.equal([(await rowOf(uid))!.hostname, (await rowOf(uid))!.zone], [null, null]);

  assert.is((await editSpec('named', { hostname: 'third', zone })).status, 200, 'and added again');
  await waitFor('third served', () => served(`third.${zone}`), (a) => a.length > 0);

  assert.is((await editSpec('named', { zone: forbiddenZone })).status, 200);
  const refused = await waitResource('named', 'ZoneNotAllowed', (r) => readyOf(r)?.reason === 'ZoneNotAllowed', 10_000);
  assert.is(refused.status.vmid, resource.status.vmid, 'the pod keeps its status beside the refusal');
  assert.equal([(await rowOf(uid))!.hostname, (await rowOf(uid))!.zone], [`third.${zone}`, zone], 'the row keeps its name');
  assert.equal(await served(`third.${zone}`), ipv4);

  await k.call('DELETE', podsPath(k.namespace, 'named'));
  await waitResource('named', 'gone', (r) => r.code === 404);
  assert.equal(await served(`third.${zone}`), [], 'the name goes with the pod');
});

test.run();
