import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { NewHookDelivery } from '../src/db/schema.ts';
import type { Tenant } from '../src/tenancy/tenants.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/**
 * Lifecycle hooks through the REST API (spec 9), against a real PostgreSQL. Each test creates the hooks it works on;
 * one that reads a tenant's whole list, or names a hook `notify`, has a tenant of its own.
 */
const test = suite('hooks API');
let database: TestDatabase;
let app: TestApp;
/** The tenant of tests that only look at hooks of their own. */
let tenant: Tenant;
let manage: string;
let manageTokenId: string;
let viewOnly: string;
let admin: string;
let scripts: string;

const base = '/api/cloud-pods/hooks';
const api = (method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>) =>
  app.request(method, path, { token, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
const hook = (fields: Record<string, unknown> = {}) => ({ name: 'notify', event: 'pod.post_create', type: 'http',
  target: 'https://hooks.example.com/cloudpods', ...fields });
const countHooks = async () => Number((await database.db.selectFrom('cloud_pod_hooks')
  .select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
const fieldsOf = (body: any) => body.error.details.fields.map((f: { name: string }) => f.name);
const secretPattern = /^whsec_[A-Za-z0-9+/]{43}=$/;

interface HookOwner {
  tenant: Tenant;
  manage: string;
  manageTokenId: string;
  viewOnly: string;
}

/** A tenant with a hooks.manage token (whose id its audit names) and a view-only one. */
async function aHookOwner(): Promise<HookOwner> {
  const tenant = await aTenant(database.db);
  const issued = await aToken(database.db, { tenant, permissions: ['cloudpods.view', 'hooks.manage'] });
  const viewOnly = (await aToken(database.db, { tenant, permissions: ['cloudpods.view'] })).token;
  return { tenant, manage: issued.token, manageTokenId: issued.record.id, viewOnly };
}

/** Creates a hook through the API: its view and, this once, its signing secret. */
async function aHook(token: string, fields: Record<string, unknown> = {}): Promise<{ id: string; hook: any; secret: string }> {
  const created = await api('POST', base, token, hook(fields));
  assert.is(created.status, 201, JSON.stringify(created.body));
  return { id: created.body.hook.id, hook: created.body.hook, secret: created.body.signing_secret };
}

/** The audit entries of one action about one hook, oldest first. */
const auditOf = async (action: string, hookId: string) => (await database.db.selectFrom('cloud_pod_audit').selectAll()
  .where('category', '=', 'hook').where('action', '=', action).orderBy('id').execute())
  .filter((a) => (a.details as { hook_id?: string }).hook_id === hookId);

test.before(async () => {
  database = await testDatabase();
  scripts = await fs.mkdtemp(path.join(os.tmpdir(), 'cloudpods-hooks-api-'));
  await fs.writeFile(path.join(scripts, 'cleanup-v2.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  app = await startTestApp({ databaseUrl: database.url, overrides: { 'hooks.scriptsDirectory': scripts } });
  ({ tenant, manage, manageTokenId, viewOnly } = await aHookOwner());
  admin = (await aToken(database.db, { admin: true, permissions: ['cloudpods.view', 'hooks.manage'] })).token;
});

test.after(async () => {
  await app?.stop();
  await database?.drop();
  await fs.rm(scripts, { recursive: true, force: true });
});

test('create: 201 with the hook and, this once, its signing secret; audited with the token', async () => {
  const { tenant, manage, manageTokenId } = await aHookOwner();
  const created = await api('POST', base, manage, hook({ config: { headers: { Authorization: 'Bearer abc' }, timeout_seconds: 5 } }));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const { hook: view, signing_secret: secret } = created.body;
  const hookId = view.id;
  assert.match(secret, secretPattern);
  assert.equal([view.tenant_id, view.name, view.managed_by], [tenant.id, 'notify', 'api']);
  assert.equal(view.spec, { event: 'pod.post_create', type: 'http', target: 'https://hooks.example.com/cloudpods',
    is_active: true, config: { headers: { Authorization: '********' }, timeout_seconds: 5 } });
  assert.equal(view.status.conditions, []);
  assert.not.ok('signing_secret' in view);
  const row = await database.db.selectFrom('cloud_pod_hooks').select('signing_secret').where('id', '=', hookId)
    .executeTakeFirstOrThrow();
  assert.is(row.signing_secret, secret, 'the secret shown is the one deliveries sign with');
  const [audit] = await auditOf('hook.created', hookId);
  assert.equal([audit!.actor_type, audit!.actor_id, audit!.tenant_id], ['token', manageTokenId, tenant.id]);
  assert.is((audit!.details as any).hook_id, hookId);
  assert.not.match(JSON.stringify(audit!.details), /Bearer abc|whsec_/, 'neither config values nor the secret are audited');
});

test('the secret is never shown again: not in GET, not in the list; a view-only token reads', async () => {
  const { manage, viewOnly } = await aHookOwner();
  const { id: hookId } = await aHook(manage);
  const shown = await api('GET', `${base}/${hookId}`, viewOnly);
  assert.is(shown.status, 200);
  assert.is(shown.body.hook.id, hookId);
  const list = await api('GET', base, viewOnly);
  assert.is(list.status, 200);
  assert.equal(list.body.hooks.map((h: any) => h.id), [hookId]);
  assert.is(list.body.meta.pagination.total_entries, 1);
  for (const body of [shown.body, list.body]) assert.not.match(JSON.stringify(body), /whsec_|signing_secret/);
});

test('validation: each bad field is named, nothing is written', async () => {
  const before = await countHooks();
  const cases: Array<[Record<string, unknown>, string[]]> = [
    [hook({ name: '', event: 'pod.exploded', type: 'ftp' }), ['name', 'event', 'type']],
    [hook({ target: 'ftp://example.com/x' }), ['target']],
    [hook({ target: 'https://user:pw@example.com/x' }), ['target']],
    [hook({ target: 'https://exa mple.com/' }), ['target']],
    [hook({ target: 'http://' }), ['target']],
    [hook({ type: 'script', target: '../etc/passwd' }), ['target']],
    [hook({ name: 'x'.repeat(101) }), ['name']],
    [hook({ config: { timeout_seconds: 61 } }), ['config.timeout_seconds']],
    [hook({ config: { headers: { 'webhook-signature': 'forged' } } }), ['config.headers.webhook-signature']],
    [hook({ config: { env: { lower: 'x' } }, type: 'script', target: 'notify.sh' }), ['config.env.lower']],
    [hook({ config: { retries: 3 } }), ['config.retries']],
    [hook({ config: { blocking: true } }), ['config.blocking']],
    [hook({ event: 'pod.post_destroy', config: { blocking: true } }), ['config.blocking']],
    [hook({ event: 'pod.pre_create', config: { blocking: 'yes' } }), ['config.blocking']],
    [hook({ is_active: 'yes', colour: 'red' }), ['is_active', 'colour']],
  ];
  for (const [body, fields] of cases) {
    const answer = await api('POST', base, manage, { ...body, name: body.name ?? 'bad' });
    assert.is(answer.status, 400, JSON.stringify(body));
    assert.is(answer.body.error.code, 'validation_error');
    assert.equal(fieldsOf(answer.body), fields, JSON.stringify(answer.body));
  }
  assert.is(await countHooks(), before);
  const why = await api('POST', base, manage, hook({ type: 'script', target: 'notify.sh', config: { env: { LD_PRELOAD: '/tmp/x.so' },
    headers: { 'Webhook-Id': 'x' } } }));
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  assert.equal([...why.body.error.details.fields].sort(byName), [
    { name: 'config.env.LD_PRELOAD', messages: ['this variable changes how the script runs'] },
    { name: 'config.headers.Webhook-Id', messages: ['this header is set by CloudPods'] },
  ], 'each map key says why it is refused');
});

test('a script hook and an inactive hook; the list filters by event and active', async () => {
  const { manage } = await aHookOwner();
  await aHook(manage);
  const script = await api('POST', base, manage, hook({ name: 'cleanup', event: 'pod.post_destroy', type: 'script',
    target: 'cleanup-v2.sh', is_active: false, config: { env: { LEVEL: 'full' } } }));
  assert.is(script.status, 201, JSON.stringify(script.body));
  assert.is(script.body.hook.spec.is_active, false);
  const byEvent = await api('GET', `${base}?event=pod.post_destroy`, manage);
  assert.equal(byEvent.body.hooks.map((h: any) => h.name), ['cleanup']);
  const active = await api('GET', `${base}?active=true`, manage);
  assert.equal(active.body.hooks.map((h: any) => h.name), ['notify']);
  const paged = await api('GET', `${base}?per_page=1&page=2`, manage);
  assert.equal([paged.body.hooks.length, paged.body.meta.pagination.total_entries], [1, 2]);
  const bad = await api('GET', `${base}?active=maybe&event=x`, manage);
  assert.is(bad.status, 400);
  assert.equal(fieldsOf(bad.body).sort(), ['query.active', 'query.event']);
});

test('a script hook must name a script this installation runs: 400 saying what to configure, nothing written', async () => {
  const cleanup = await aHook(manage, { name: 'cleanup-runs', event: 'pod.post_destroy', type: 'script', target: 'cleanup-v2.sh' });
  const before = await countHooks();
  const missing = await api('POST', base, manage, hook({ name: 'deploy', type: 'script', target: 'deploy.sh' }));
  assert.is(missing.status, 400, JSON.stringify(missing.body));
  assert.equal(missing.body.error.details.fields, [{ name: 'target', messages: ['no script "deploy.sh" is allow-listed: '
    + 'an admin places an executable file of that name in the scripts directory (hooks.scriptsDirectory)'] }]);
  const retargeted = await api('PATCH', `${base}/${cleanup.id}`, manage, { target: 'deploy.sh' });
  assert.is(retargeted.status, 400);
  assert.equal(fieldsOf(retargeted.body), ['target']);
  assert.is((await api('GET', `${base}/${cleanup.id}`, manage)).body.hook.spec.target, 'cleanup-v2.sh');

  const unconfigured = await startTestApp({ databaseUrl: database.url });
  try {
    const refused = await unconfigured.request('POST', base, { token: manage,
      body: hook({ name: 'cleanup-2', type: 'script', target: 'cleanup-v2.sh' }) });
    assert.is(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.details.fields, [{ name: 'type', messages: ['script hooks are not enabled here: '
      + 'no scripts directory is configured (hooks.scriptsDirectory, CLOUDPODS_HOOK_SCRIPTS_DIR)'] }]);
  } finally {
    await unconfigured.stop();
  }
  assert.is(await countHooks(), before, 'nothing written');
});

test('names are unique per tenant: 409 naming the field; another tenant may use it', async () => {
  const { manage } = await aHookOwner();
  const { id: hookId } = await aHook(manage);
  await aHook(manage, { name: 'cleanup' });
  const again = await api('POST', base, manage, hook({ target: 'https://elsewhere.example.com/' }));
  assert.is(again.status, 409);
  assert.is(again.body.error.code, 'conflict');
  assert.equal(fieldsOf(again.body), ['name']);
  const theirs = await api('POST', base, (await aHookOwner()).manage, hook());
  assert.is(theirs.status, 201, JSON.stringify(theirs.body));
  const rename = await api('PATCH', `${base}/${hookId}`, manage, { name: 'cleanup' });
  assert.is(rename.status, 409);
  assert.equal(fieldsOf(rename.body), ['name']);
});

test('concurrent creates of one name: exactly one wins', async () => {
  const answers = await Promise.all([1, 2, 3, 4].map((n) =>
    api('POST', base, manage, hook({ name: 'racer', target: `https://r${n}.example.com/` }))));
  assert.equal(answers.map((a) => a.status).sort(), [201, 409, 409, 409]);
});

test('permissions: a view-only token cannot write (403), and writes nothing', async () => {
  const { id: hookId } = await aHook(manage, { name: 'guarded' });
  const before = await countHooks();
  for (const [method, path, body] of [['POST', base, hook({ name: 'nope' })], ['PATCH', `${base}/${hookId}`, { is_active: false }],
    ['DELETE', `${base}/${hookId}`, undefined], ['POST', `${base}/${hookId}/rotate-secret`, undefined]] as const) {
    const answer = await api(method, path, viewOnly, body);
    assert.is(answer.status, 403, `${method} ${path}`);
    assert.equal(answer.body.error.details.missing, ['hooks.manage']);
  }
  const noView = (await aToken(database.db, { tenant, permissions: ['hooks.manage'] })).token;
  assert.is((await api('GET', base, noView)).status, 403);
  assert.is(await countHooks(), before);
});

test('another tenant\'s hook is 404 for every route', async () => {
  const { id: hookId } = await aHook(manage, { name: 'private' });
  const { tenant: other, manage: stranger } = await aHookOwner();
  await aHook(stranger);
  for (const [method, path, body] of [['GET', `${base}/${hookId}`, undefined], ['GET', `${base}/${hookId}/deliveries`, undefined],
    ['PATCH', `${base}/${hookId}`, { is_active: false }], ['DELETE', `${base}/${hookId}`, undefined],
    ['POST', `${base}/${hookId}/rotate-secret`, undefined]] as const) {
    const answer = await api(method, path, stranger, body);
    assert.is(answer.status, 404, `${method} ${path}`);
  }
  assert.equal((await api('GET', base, stranger)).body.hooks.map((h: any) => h.tenant_id), [other.id]);
  assert.is((await api('GET', `${base}?tenant=${tenant.slug}`, stranger)).status, 404);
  assert.is((await api('POST', base, stranger, hook({ name: 'sneak', tenant: tenant.id }))).status, 400);
  assert.is((await api('GET', `${base}/not-a-uuid`, manage)).status, 404);
});

test('admins: see every tenant\'s hooks or one tenant\'s, and must name the tenant of a new hook', async () => {
  const { tenant: other, manage: theirs } = await aHookOwner();
  await Promise.all([aHook(manage, { name: 'seen-by-admins' }), aHook(theirs)]);
  const all = await api('GET', `${base}?per_page=200`, admin);
  const everyTenant = await database.db.selectFrom('cloud_pod_hooks').select('tenant_id').distinct().execute();
  assert.equal(new Set(all.body.hooks.map((h: any) => h.tenant_id)), new Set(everyTenant.map((r) => r.tenant_id)));
  assert.ok([tenant.id, other.id].every((id) => all.body.hooks.some((h: any) => h.tenant_id === id)));
  const one = await api('GET', `${base}?tenant=${other.slug}`, admin);
  assert.ok(one.body.hooks.length > 0 && one.body.hooks.every((h: any) => h.tenant_id === other.id));
  const unnamed = await api('POST', base, admin, hook({ name: 'admin-made' }));
  assert.is(unnamed.status, 400);
  assert.equal(fieldsOf(unnamed.body), ['tenant']);
  const unknown = await api('POST', base, admin, hook({ name: 'admin-made', tenant: '00000000-0000-4000-8000-000000000000' }));
  assert.is(unknown.status, 400);
  assert.equal(fieldsOf(unknown.body), ['tenant']);
  const made = await api('POST', base, admin, hook({ name: 'admin-made', tenant: other.id }));
  assert.is(made.status, 201, JSON.stringify(made.body));
  assert.is(made.body.hook.tenant_id, other.id);
  assert.match(made.body.signing_secret, secretPattern);
  const changed = await api('PATCH', `${base}/${made.body.hook.id}`, admin, { is_active: false });
  assert.is(changed.status, 200);
  assert.is((await api('DELETE', `${base}/${made.body.hook.id}`, admin)).status, 204);
});

test('header and env values are write-only: masked in reads, kept when sent back masked, replaced when sent', async () => {
  const created = await api('POST', base, manage, hook({ name: 'masked', config: { headers: { Authorization: 'Bearer s3cret-xyz',
    'X-Tenant': 'acme' } } }));
  const id = created.body.hook.id;
  const read = await api('GET', `${base}/${id}`, viewOnly);
  assert.equal(read.body.hook.spec.config.headers, { Authorization: '********', 'X-Tenant': '********' });
  assert.not.match(JSON.stringify((await api('GET', base, viewOnly)).body), /s3cret-xyz/, 'not in the list either');
  // Read, change one value, send it all back: the masked one keeps what was stored.
  const config = { ...read.body.hook.spec.config, headers: { ...read.body.hook.spec.config.headers, 'X-Tenant': 'other' } };
  assert.is((await api('PATCH', `${base}/${id}`, manage, { config })).status, 200);
  const stored = await database.db.selectFrom('cloud_pod_hooks').select('config').where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal((stored.config as any).headers, { Authorization: 'Bearer s3cret-xyz', 'X-Tenant': 'other' });
  const unknown = await api('PATCH', `${base}/${id}`, manage, { config: { headers: { 'X-New': '********' } } });
  assert.equal([unknown.status, fieldsOf(unknown.body)], [400, ['config.headers.X-New']]);
  assert.is((await api('DELETE', `${base}/${id}`, manage)).status, 204);
});

test('patch: name, target, activity and config change; event and type are immutable', async () => {
  const { id: hookId } = await aHook(manage, { name: 'patched' });
  const changed = await api('PATCH', `${base}/${hookId}`, manage, { target: 'https://hooks.example.com/v2',
    is_active: false, config: { timeout_seconds: 10 } });
  assert.is(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(changed.body.hook.spec, { event: 'pod.post_create', type: 'http', target: 'https://hooks.example.com/v2',
    is_active: false, config: { timeout_seconds: 10 } });
  assert.is(changed.body.hook.status.generation, 2);
  assert.not.match(JSON.stringify(changed.body), /whsec_/);
  const [audit] = await auditOf('hook.updated', hookId);
  assert.equal([audit!.actor_type, audit!.actor_id], ['token', manageTokenId]);
  assert.equal((audit!.details as any).changed, ['target', 'is_active', 'config']);
  assert.equal((audit!.details as any).target, { old: 'https://hooks.example.com/cloudpods', new: 'https://hooks.example.com/v2' });

  const same = await api('PATCH', `${base}/${hookId}`, manage, { event: 'pod.post_create', type: 'http', is_active: false });
  assert.is(same.status, 200, 'naming event and type as they are is no change');
  assert.is(same.body.hook.status.generation, 2);
  for (const [field, value] of [['event', 'pod.pre_destroy'], ['type', 'script']] as const) {
    const refused = await api('PATCH', `${base}/${hookId}`, manage, { [field]: value });
    assert.is(refused.status, 400);
    assert.equal(fieldsOf(refused.body), [field]);
  }
  for (const [body, fields] of [[{ target: 'mailto:x@example.com' }, ['target']], [{}, ['(body)']],
    [{ config: { timeout_seconds: 0 } }, ['config.timeout_seconds']], [{ signing_secret: 'whsec_x' }, ['signing_secret']],
    [{ config: { blocking: true } }, ['config.blocking']]] as const) {
    const refused = await api('PATCH', `${base}/${hookId}`, manage, body);
    assert.is(refused.status, 400, JSON.stringify(body));
    assert.equal(fieldsOf(refused.body), fields);
  }
  const row = await database.db.selectFrom('cloud_pod_hooks').select(['target', 'generation']).where('id', '=', hookId)
    .executeTakeFirstOrThrow();
  assert.equal(row, { target: 'https://hooks.example.com/v2', generation: 2 }, 'refused changes wrote nothing');
});

test('rotate-secret: a new secret, shown once, used from now on; audited without it', async () => {
  const { id: hookId, hook: created, secret: firstSecret } = await aHook(manage, { name: 'rotated' });
  const rotated = await api('POST', `${base}/${hookId}/rotate-secret`, manage);
  assert.is(rotated.status, 200, JSON.stringify(rotated.body));
  const secret = rotated.body.signing_secret;
  assert.match(secret, secretPattern);
  assert.is.not(secret, firstSecret);
  assert.is(rotated.body.hook.id, hookId);
  const row = await database.db.selectFrom('cloud_pod_hooks').select(['signing_secret', 'generation']).where('id', '=', hookId)
    .executeTakeFirstOrThrow();
  assert.equal(row, { signing_secret: secret, generation: created.status.generation }, 'the spec did not change');
  const [audit] = await auditOf('hook.secret_rotated', hookId);
  assert.equal([audit!.actor_id, (audit!.details as any).hook_id], [manageTokenId, hookId]);
  assert.not.match(JSON.stringify(audit!.details), /whsec_/);
  assert.not.match(JSON.stringify((await api('GET', `${base}/${hookId}`, manage)).body), /whsec_/);
});

test('answers with a secret are never replayed: an Idempotency-Key does not store them', async () => {
  const { id: hookId } = await aHook(manage, { name: 'replayed' });
  const headers = { 'idempotency-key': 'hook-secret-1' };
  const first = await api('POST', `${base}/${hookId}/rotate-secret`, manage, undefined, headers);
  const second = await api('POST', `${base}/${hookId}/rotate-secret`, viewOnly, undefined, headers);
  assert.is(first.status, 200);
  assert.is(second.status, 403, 'a view-only token gets no replay of the secret');
  const created = await api('POST', base, manage, hook({ name: 'keyed' }), { 'idempotency-key': 'hook-create-1' });
  assert.is(created.status, 201);
  const replay = await api('POST', base, viewOnly, hook({ name: 'keyed' }), { 'idempotency-key': 'hook-create-1' });
  assert.is(replay.status, 403);
  const stored = await database.db.selectFrom('idempotency_keys').select('response_body').execute();
  assert.not.match(JSON.stringify(stored), /whsec_/);
});

test('a hook from Kubernetes is readable, PATCH and DELETE answer 409 managed_by_kubernetes, its secret is rotated here', async () => {
  const row = await database.db.insertInto('cloud_pod_hooks').values({ tenant_id: tenant.id, name: 'from-kube',
    event: 'pod.pre_destroy', type: 'http', target: 'https://kube.example.com/', managed_by: 'kubernetes',
    kube_uid: 'uid-1', kube_namespace: 'team-acme', kube_name: 'from-kube',
    conditions: JSON.stringify([{ type: 'LastDelivery', status: 'False', reason: 'DeliveryFailed', message: 'HTTP 503',
      lastTransitionTime: new Date().toISOString() }]) }).returning('id').executeTakeFirstOrThrow();
  const shown = await api('GET', `${base}/${row.id}`, manage);
  assert.is(shown.status, 200);
  assert.is(shown.body.hook.managed_by, 'kubernetes');
  assert.equal(shown.body.hook.status.conditions.map((c: any) => [c.type, c.reason]), [['LastDelivery', 'DeliveryFailed']]);
  for (const [method, path, body] of [['PATCH', `${base}/${row.id}`, { is_active: false }], ['DELETE', `${base}/${row.id}`, undefined],
  ] as const) {
    const answer = await api(method, path, manage, body);
    assert.is(answer.status, 409, `${method} ${path}`);
    assert.is(answer.body.error.code, 'managed_by_kubernetes');
    assert.match(answer.body.error.message, 'team-acme/from-kube');
  }
  const after = await database.db.selectFrom('cloud_pod_hooks').select(['is_active', 'generation']).where('id', '=', row.id)
    .executeTakeFirstOrThrow();
  assert.equal(after, { is_active: true, generation: 1 });
  const rotated = await api('POST', `${base}/${row.id}/rotate-secret`, manage);
  assert.is(rotated.status, 200, 'the only way a CloudPodHook\'s owner learns its secret');
  assert.match(rotated.body.signing_secret, /^whsec_/);
});

test('deliveries: the hook\'s ledger rows, newest first, paginated', async () => {
  const { id: hookId } = await aHook(manage, { name: 'delivering' });
  const pod = '11111111-1111-4111-8111-111111111111';
  const [another] = await database.db.insertInto('cloud_pod_hooks').values({ tenant_id: tenant.id, name: 'another',
    event: 'pod.post_create', type: 'http', target: 'https://hooks.example.com/other' }).returning('id').execute();
  const delivery = (hook: string, jobId: number, fields: Partial<NewHookDelivery>): NewHookDelivery => ({ hook_id: hook,
    tenant_id: tenant.id, pod_id: pod, event: 'pod.post_create', delivery_id: `msg_${jobId}_${hook}`, job_id: jobId,
    ...fields });
  const [delivered, givenUp, , waiting] = await database.db.insertInto('cloud_pod_hook_deliveries').values([
    delivery(hookId, 1, { status: 'delivered', attempts: 1, finished_at: new Date() }),
    delivery(hookId, 2, { status: 'given_up', attempts: 10, last_error: 'HTTP 503', finished_at: new Date() }),
    // Another hook's delivery: not this hook's.
    delivery(another!.id, 3, { status: 'delivered', attempts: 1, finished_at: new Date() }),
    // A retry waiting for its time.
    delivery(hookId, 4, { status: 'failed', attempts: 1, last_error: 'HTTP 500' }),
  ]).returning('id').execute();

  const listed = await api('GET', `${base}/${hookId}/deliveries`, viewOnly);
  assert.is(listed.status, 200, JSON.stringify(listed.body));
  assert.equal(listed.body.deliveries.map((d: any) => d.id), [waiting!.id, givenUp!.id, delivered!.id]);
  const [retrying, failed, done] = listed.body.deliveries;
  assert.equal([retrying.status, retrying.finished_at, retrying.delivery_id, retrying.job_id],
    ['failed', null, `msg_4_${hookId}`, 4]);
  assert.equal([failed.status, failed.attempts, failed.last_error, failed.event, failed.blocking],
    ['given_up', 10, 'HTTP 503', 'pod.post_create', false]);
  assert.ok(failed.finished_at && done.finished_at && done.created_at);
  assert.is(done.pod_id, pod);
  const page = await api('GET', `${base}/${hookId}/deliveries?per_page=2&page=2`, viewOnly);
  assert.equal(page.body.deliveries.map((d: any) => d.id), [delivered!.id]);
  assert.is(page.body.meta.pagination.total_entries, 3);
  assert.is((await api('GET', `${base}/${hookId}/deliveries?per_page=0`, viewOnly)).status, 400);
  await database.db.deleteFrom('cloud_pod_hooks').where('id', '=', another!.id).execute();
});

test('blocking: allowed on pod.pre_create and pod.pre_destroy hooks, refused on a change of another event\'s', async () => {
  for (const event of ['pod.pre_create', 'pod.pre_destroy']) {
    const created = await api('POST', base, manage, hook({ name: `gate-${event.slice(8)}`, event, config: { blocking: true } }));
    assert.is(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.hook.spec.config, { blocking: true });
    const off = await api('PATCH', `${base}/${created.body.hook.id}`, manage, { config: { blocking: false } });
    assert.equal([off.status, off.body.hook?.spec.config], [200, { blocking: false }]);
    assert.is((await api('DELETE', `${base}/${created.body.hook.id}`, manage)).status, 204);
  }
  const post = await api('POST', base, manage, hook({ name: 'not-blocking', config: { blocking: false } }));
  assert.is(post.status, 201, 'false is allowed anywhere');
  const refused = await api('PATCH', `${base}/${post.body.hook.id}`, manage, { config: { blocking: true } });
  assert.equal([refused.status, fieldsOf(refused.body)], [400, ['config.blocking']]);
  assert.match(refused.body.error.message, 'pod.pre_create');
  assert.is((await api('DELETE', `${base}/${post.body.hook.id}`, manage)).status, 204);
});

test('delete: 204, the row is gone (404 after), audited', async () => {
  const { tenant, manage, manageTokenId } = await aHookOwner();
  const { id: hookId } = await aHook(manage);
  const deleted = await api('DELETE', `${base}/${hookId}`, manage);
  assert.is(deleted.status, 204);
  assert.is((await api('GET', `${base}/${hookId}`, manage)).status, 404);
  assert.is((await api('DELETE', `${base}/${hookId}`, manage)).status, 404);
  const audit = await database.db.selectFrom('cloud_pod_audit').selectAll().where('action', '=', 'hook.deleted')
    .where('tenant_id', '=', tenant.id).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
  assert.equal([audit.actor_id, (audit.details as any).name], [manageTokenId, 'notify']);
});

test.run();
