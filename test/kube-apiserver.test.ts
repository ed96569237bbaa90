import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startKubeApiserver, type FakeKubeApiserver } from './support/kube-apiserver/index.ts';
import { jsonPatch, mergePatch } from './support/kube-apiserver/patch.ts';
import { matchesRequirements, parseLabelSelector } from './support/kube-apiserver/selectors.ts';
import { evaluateJsonPath } from './support/kube-apiserver/table.ts';
import { waitFor } from './support/wait.ts';

/** Conformance of the fake kube-apiserver with the behaviour of the real one that the bridge and kubectl rely on. */
const test = suite('fake kube-apiserver');
let api: FakeKubeApiserver;
test.before(async () => {
  api = await startKubeApiserver({ bookmarkIntervalMs: 100, serviceAccounts: [{ token: 'limited', user: 'system:serviceaccount:x:y',
    clusterRules: [{ apiGroups: ['cloudpods.mpanel.io'], resources: ['cloudpods'], verbs: ['get', 'list'] }],
    namespaceRules: { team: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] }] } }] });
  await call('POST', '/api/v1/namespaces', { metadata: { name: 'team' } });
});
test.after(async () => { await api?.stop(); });

const base = '/apis/cloudpods.mpanel.io/v1alpha1/namespaces/team/cloudpods';
async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const response = await fetch(`${api.url}${path}`, { method, headers: { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.json() as any };
}
const pod = (name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}) => ({
  apiVersion: 'cloudpods.mpanel.io/v1alpha1', kind: 'CloudPod', metadata: { name, labels },
  spec: { template: 'ubuntu-24.04', cpuCores: 1, memoryMb: 1024, diskGb: 10, ...spec },
});

/** Opens a watch and collects its events until closed. */
function watch(path: string) {
  const events: any[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const response = await fetch(`${api.url}${path}`, { signal: controller.signal });
    let buffer = '';
    for await (const chunk of response.body!) {
      buffer += Buffer.from(chunk).toString();
      let index: number;
      while ((index = buffer.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buffer.slice(0, index)));
        buffer = buffer.slice(index + 1);
      }
    }
  })().catch(() => undefined);
  return { events, done, close: () => controller.abort() };
}

test('pure helpers: merge patch, JSON patch, label selectors, JSONPath', () => {
  assert.equal(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3] }), { a: 1, b: { d: 3, e: 4 }, l: [3] });
  assert.equal(jsonPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/-', value: 3 }, { op: 'replace', path: '/a/0', value: 0 }]), { a: [0, 2, 3] });
  assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]));
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['app=web', { app: 'web' }, true], ['app==web', { app: 'db' }, false], ['app!=web', {}, true],
    ['tier in (a,b),app', { tier: 'b', app: 'x' }, true], ['tier notin (a,b)', { tier: 'a' }, false],
    ['!app', { app: 'x' }, false], ['!app', {}, true],
  ];
  for (const [selector, labels, expected] of cases) assert.is(matchesRequirements(labels, parseLabelSelector(selector)), expected, selector);
  const object = { status: { conditions: [{ type: 'X', status: 'False' }, { type: 'Ready', status: 'True' }], ips: ['1.2.3.4'] } };
  assert.is(evaluateJsonPath(object, '.status.conditions[?(@.type=="Ready")].status'), 'True');
  assert.is(evaluateJsonPath(object, '.status.ips[0]'), '1.2.3.4');
});

test('create: uid, generation 1, status dropped, defaults applied; a second create is 409 AlreadyExists', async () => {
  const created = await call('POST', base, { ...pod('a'), status: { phase: 'active' } });
  assert.is(created.status, 201);
  assert.ok(created.body.metadata.uid);
  assert.is(created.body.metadata.generation, 1);
  assert.is(created.body.status, undefined);
  assert.is(created.body.spec.powerState, 'running', 'default from the schema');
  const again = await call('POST', base, pod('a'));
  assert.equal([again.status, again.body.kind, again.body.reason], [409, 'Status', 'AlreadyExists']);
  const missing = await call('GET', `${base}/nope`);
  assert.equal([missing.status, missing.body.reason, missing.body.details.name], [404, 'NotFound', 'nope']);
});

test('schema validation: bounds, patterns, required, unknown fields pruned, CEL immutability and grow-only', async () => {
  const bad = await call('POST', base, pod('b', { cpuCores: 0, template: '' }));
  assert.equal([bad.status, bad.body.reason], [422, 'Invalid']);
  assert.ok(bad.body.details.causes.some((c: any) => c.field === 'spec.cpuCores'));
  assert.ok(bad.body.details.causes.some((c: any) => c.field === 'spec.template'));
  const badName = await call('POST', base, pod('Not_A_Label'));
  assert.is(badName.status, 422);
  const noZone = await call('POST', base, pod('b', { hostname: 'web' }));
  assert.match(noZone.body.message, /zone is required with a hostname that is a single label/);
  const outside = await call('POST', base, pod('b', { hostname: 'web.example.org', zone: 'example.com' }));
  assert.match(outside.body.message, /hostname must be a label, or a name inside the zone/);
  const pruned = await call('POST', base, pod('b', { colour: 'blue' }));
  assert.is(pruned.status, 201);
  assert.is(pruned.body.spec.colour, undefined);
  const strict = await call('POST', `${base}?fieldValidation=Strict`, pod('c', { colour: 'blue' }));
  assert.equal([strict.status, strict.body.reason], [400, 'BadRequest']);
  assert.match(strict.body.message, /unknown field "spec.colour"/);
  const shrink = await call('PATCH', `${base}/b`, { spec: { diskGb: 5 } }, 'application/merge-patch+json');
  assert.equal([shrink.status, shrink.body.reason], [422, 'Invalid']);
  assert.match(shrink.body.message, /diskGb cannot shrink/);
  const template = await call('PATCH', `${base}/b`, { spec: { template: 'debian-12' } }, 'application/merge-patch+json');
  assert.match(template.body.message, /template is immutable/);
});

test('update: resourceVersion required and checked (409), generation moves on spec changes only, no-op keeps the RV', async () => {
  const current = (await call('POST', base, pod('u'))).body;
  const noRv = await call('PUT', `${base}/u`, { ...current, metadata: { ...current.metadata, resourceVersion: undefined } });
  assert.is(noRv.status, 422);
  const labelled = await call('PUT', `${base}/u`, { ...current, metadata: { ...current.metadata, labels: { x: 'y' } } });
  assert.is(labelled.status, 200);
  assert.is(labelled.body.metadata.generation, 1, 'metadata changes keep the generation');
  const stale = await call('PUT', `${base}/u`, { ...current, spec: { ...current.spec, cpuCores: 2 } });
  assert.equal([stale.status, stale.body.reason], [409, 'Conflict']);
  assert.match(stale.body.message, /the object has been modified; please apply your changes to the latest version and try again/);
  const grown = await call('PUT', `${base}/u`, { ...labelled.body, spec: { ...labelled.body.spec, cpuCores: 2 }, status: { phase: 'active' } });
  assert.is(grown.body.metadata.generation, 2);
  assert.is(grown.body.status, undefined, 'the main resource ignores status');
  const same = await call('PUT', `${base}/u`, grown.body);
  assert.is(same.body.metadata.resourceVersion, grown.body.metadata.resourceVersion, 'a no-op write keeps the RV');
});

test('status subresource: only status changes, never generation; merge and JSON patch; RV in a patch is a precondition', async () => {
  const before = (await call('POST', base, pod('s'))).body;
  const status = await call('PATCH', `${base}/s/status`, { spec: { cpuCores: 9 }, status: { phase: 'active' } },
    'application/merge-patch+json');
  assert.is(status.status, 200);
  assert.is(status.body.status.phase, 'active');
  assert.is(status.body.spec.cpuCores, before.spec.cpuCores);
  assert.is(status.body.metadata.generation, before.metadata.generation);
  const stale = await call('PATCH', `${base}/s/status`, { metadata: { resourceVersion: before.metadata.resourceVersion },
    status: { phase: 'error' } }, 'application/merge-patch+json');
  assert.is(stale.status, 409);
  const badPhase = await call('PATCH', `${base}/s/status`, { status: { phase: 'flying' } }, 'application/merge-patch+json');
  assert.is(badPhase.status, 422);
  const json = await call('PATCH', `${base}/s`, [{ op: 'replace', path: '/spec/memoryMb', value: 2048 }], 'application/json-patch+json');
  assert.equal([json.status, json.body.spec.memoryMb], [200, 2048]);
  const strategic = await call('PATCH', `${base}/s`, { spec: {} }, 'application/strategic-merge-patch+json');
  assert.is(strategic.status, 415);
});

test('finalizers: delete sets deletionTimestamp and bumps generation; no new finalizers; removing the last deletes', async () => {
  await call('POST', base, { ...pod('f'), metadata: { name: 'f', finalizers: ['cloudpods.mpanel.io/finalizer'] } });
  const deleting = await call('DELETE', `${base}/f`);
  assert.is(deleting.status, 200);
  assert.ok(deleting.body.metadata.deletionTimestamp);
  assert.is(deleting.body.metadata.generation, 2);
  const added = await call('PATCH', `${base}/f`, { metadata: { finalizers: ['cloudpods.mpanel.io/finalizer', 'other/x'] } },
    'application/merge-patch+json');
  assert.is(added.status, 422);
  const removed = await call('PATCH', `${base}/f`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
  assert.is(removed.status, 200);
  assert.is((await call('GET', `${base}/f`)).status, 404);
});

test('list: selectors, limit and continue; a continue token from before compaction is 410', async () => {
  await call('POST', base, pod('l1', {}, { app: 'web' }));
  await call('POST', base, pod('l2', {}, { app: 'db' }));
  await call('POST', base, pod('l3'));
  const web = await call('GET', `${base}?labelSelector=${encodeURIComponent('app in (web)')}`);
  assert.equal(web.body.items.map((i: any) => i.metadata.name), ['l1']);
  assert.is(web.body.kind, 'CloudPodList');
  const byName = await call('GET', `${base}?fieldSelector=metadata.name%3Dl2`);
  assert.equal(byName.body.items.map((i: any) => i.metadata.name), ['l2']);
  const first = await call('GET', `${base}?limit=2`);
  assert.is(first.body.items.length, 2);
  const rest = await call('GET', `${base}?limit=2&continue=${first.body.metadata.continue}`);
  assert.ok(rest.body.items.length >= 1);
  api.faults.compact();
  const expired = await call('GET', `${base}?limit=2&continue=${first.body.metadata.continue}`);
  assert.equal([expired.status, expired.body.reason], [410, 'Expired']);
});

test('watch: replay from a resourceVersion, selectors (leaving is DELETED), bookmarks, 410 for compacted history', async () => {
  const rv = (await call('GET', base)).body.metadata.resourceVersion;
  await call('POST', base, pod('w1', {}, { app: 'web' }));
  const stream = watch(`${base}?watch=true&resourceVersion=${rv}&labelSelector=app%3Dweb&allowWatchBookmarks=true`);
  await waitFor('replayed ADDED', () => stream.events, (e) => e.some((x) => x.type === 'ADDED' && x.object.metadata.name === 'w1'));
  await call('PATCH', `${base}/w1`, { metadata: { labels: { app: 'db' } } }, 'application/merge-patch+json');
  await waitFor('DELETED on leaving the selector', () => stream.events, (e) => e.some((x) => x.type === 'DELETED'));
  await waitFor('a bookmark', () => stream.events, (e) => e.some((x) => x.type === 'BOOKMARK' && x.object.metadata.resourceVersion));
  stream.close();
  api.faults.compact();
  const old = watch(`${base}?watch=true&resourceVersion=${rv}`);
  await old.done;
  assert.equal([old.events[0]?.type, old.events[0]?.object.code, old.events[0]?.object.reason], ['ERROR', 410, 'Expired']);
  const current = (await call('GET', base)).body.items.length;
  const fresh = watch(`${base}?watch=true`);
  await waitFor('current state as ADDED', () => fresh.events, (e) => e.length >= current && e.every((x) => x.type === 'ADDED'));
  fresh.close();
});

test('faults: the Nth call fails with 409, 429 (Retry-After) or 500; watches drop or freeze', async () => {
  await call('POST', base, pod('fa'));
  api.faults.failNth({ method: 'GET', path: '/cloudpods/fa', status: 429, nth: 2 });
  assert.is((await call('GET', `${base}/fa`)).status, 200);
  const limited = await fetch(`${api.url}${base}/fa`);
  assert.equal([limited.status, limited.headers.get('retry-after')], [429, '1']);
  assert.is((await call('GET', `${base}/fa`)).status, 200);
  api.faults.failNth({ path: '/status', status: 500 });
  assert.is((await call('PATCH', `${base}/fa/status`, { status: {} }, 'application/merge-patch+json')).status, 500);
  const stream = watch(`${base}?watch=true&resourceVersion=${(await call('GET', base)).body.metadata.resourceVersion}`);
  await waitFor('watch open', () => api.faults.openWatches('watch=true'), (n) => n === 1);
  api.faults.freezeWatches();
  await call('POST', base, pod('frozen'));
  assert.is(stream.events.length, 0, 'a frozen watch delivers nothing');
  assert.is(api.faults.dropWatches(), 1);
  await stream.done;
});

test('RBAC for a service account token: verbs by method and watch, subresources, namespaced Roles; 403 Status', async () => {
  const as = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api.url}${path}`, { method, headers: { 'content-type': 'application/json',
      authorization: 'Bearer limited' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: await response.json() as any };
  };
  await call('POST', base, pod('rbac-1'));
  assert.is((await as('GET', `${base}/rbac-1`)).status, 200, 'get');
  assert.is((await as('GET', base)).status, 200, 'list');
  const watchRefused = await as('GET', `${base}?watch=true`);
  assert.equal([watchRefused.status, watchRefused.body.kind, watchRefused.body.reason], [403, 'Status', 'Forbidden']);
  assert.match(watchRefused.body.message, /User "system:serviceaccount:x:y" cannot watch resource "cloudpods" in API group "cloudpods.mpanel.io" in the namespace "team"/);
  assert.is((await as('PATCH', `${base}/rbac-1/status`, { status: { phase: 'x' } })).status, 403, 'the status subresource is its own resource');
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: {} };
  assert.is((await as('POST', '/apis/coordination.k8s.io/v1/namespaces/team/leases', lease)).status, 201, 'Role in its namespace');
  assert.is((await as('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', lease)).status, 403, 'not elsewhere');
  assert.is((await as('GET', '/api/v1/namespaces/team')).status, 403, 'cluster-scoped namespaces need their own rule');
  assert.is((await call('GET', '/api/v1/namespaces/team')).status, 200, 'other tokens are not restricted');
  assert.is(api.forbidden.length, 4);
});

test('discovery for kubectl: /api, /apis, the group version with short names, categories and the status subresource', async () => {
  const groups = (await call('GET', '/apis')).body;
  assert.ok(groups.groups.some((g: any) => g.name === 'cloudpods.mpanel.io'));
  const resources = (await call('GET', '/apis/cloudpods.mpanel.io/v1alpha1')).body.resources;
  const cloudpods = resources.find((r: any) => r.name === 'cloudpods');
  assert.equal([cloudpods.kind, cloudpods.namespaced, cloudpods.categories], ['CloudPod', true, ['cloudpods']]);
  assert.ok(resources.some((r: any) => r.name === 'cloudpods/status'));
  assert.ok((await call('GET', '/api/v1')).body.resources.some((r: any) => r.name === 'namespaces'));
  const table = await fetch(`${api.url}${base}`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  const body = await table.json() as any;
  assert.equal(body.columnDefinitions.map((c: any) => c.name), ['Name', 'Phase', 'Ready', 'Healthy', 'IP', 'Node', 'VMID', 'Age']);
});

test.run();
