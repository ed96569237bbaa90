import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { shippedMigrationNames } from '../src/db/migrate.ts';
import { freePort } from '../src/net/free-port.ts';
import { queryDns } from '../src/powerdns/dns-query.ts';
import { startTestApp } from './support/app.ts';
import { startDevProcess } from './support/dev-process.ts';
import { aTenant } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('the cloudpods command');
const cli = new URL('../src/cli.ts', import.meta.url).pathname;
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'warn' };
const databases: TestDatabase[] = [];

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [cli, ...args], { env: { ...baseEnv, ...env }, encoding: 'utf8' });
}

async function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

test.after(async () => {
  for (const database of databases) await database.drop();
});

test('token create prints a working token once; token revoke stops it', async () => {
  const database = await testDatabase();
  databases.push(database);
  await aTenant(database.db, 'clitenant');
  const created = run(['token', 'create', '--tenant', 'clitenant', '--permissions', 'cloudpods.view,cloudpods.manage',
    '--expires', '30d', '--name', 'ci'], { DATABASE_URL: database.url });
  assert.is(created.status, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^cpk_[A-Za-z0-9_-]{43}$/);
  assert.match(created.stderr, /shown only this once/);

  const app = await startTestApp({ databaseUrl: database.url });
  try {
    const me = await app.request('GET', '/api/me', { token });
    assert.is(me.status, 200);
    assert.is(me.body.principal.tenant.slug, 'clitenant');
    assert.equal(me.body.principal.permissions, ['cloudpods.manage', 'cloudpods.view']);
    const revoked = run(['token', 'revoke', me.body.principal.token_id], { DATABASE_URL: database.url });
    assert.is(revoked.status, 0, revoked.stderr);
    assert.is((await app.request('GET', '/api/me', { token })).status, 401);
  } finally {
    await app.stop();
  }
});

test('token create refuses bad input with exit code 2 and writes nothing', async () => {
  const database = databases[0]!;
  const before = (await database.db.selectFrom('api_tokens').select('id').execute()).length;
  for (const args of [
    ['token', 'create', '--tenant', 'nobody', '--permissions', 'cloudpods.view'],
    ['token', 'create', '--tenant', 'clitenant', '--permissions', 'cloudpods.view,root'],
    ['token', 'create', '--permissions', 'cloudpods.view'],
    ['token', 'create', '--admin', '--expires', 'tomorrow'],
    ['token', 'create', '--admin', '--colour', 'red'],
  ]) {
    const result = run(args, { DATABASE_URL: database.url });
    assert.is(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.is(result.stdout, '');
  }
  const after = (await database.db.selectFrom('api_tokens').select('id').execute()).length;
  assert.is(after, before);
});

test('migrate applies everything once under its lock, then reports nothing to do', async () => {
  const database = await testDatabase({ empty: true });
  databases.push(database);
  const [first, second] = await Promise.all([0, 1].map(() => new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, 'migrate'], { env: { ...baseEnv, DATABASE_URL: database.url } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => resolve({ code, out }));
  })));
  assert.is(first!.code, 0, first!.out);
  assert.is(second!.code, 0, second!.out);
  const shipped = await shippedMigrationNames();
  const applied = [first!.out, second!.out].filter((o) => o.includes(`applied ${shipped.length} migration(s): ${shipped.join(', ')}`));
  const idle = [first!.out, second!.out].filter((o) => o.includes('schema is current: nothing to apply'));
  assert.equal([applied.length, idle.length], [1, 1], 'one replica applied every migration, the other waited and found none');
  const events = await database.db.selectFrom('system_events').select(['service', 'level', 'message', 'context']).execute();
  assert.equal(events, [{ service: 'cloudpods', level: 'info', message: 'migrations applied', context: { applied: shipped } }],
    'one system event, from the replica that applied them');
  const again = run(['migrate'], { DATABASE_URL: database.url });
  assert.match(again.stdout, /schema is current: nothing to apply/);
  const status = run(['migrate', '--status'], { DATABASE_URL: database.url });
  assert.match(status.stdout, /^applied {2}0001_initial {2}\d{4}-/m);
});

test('serve refuses a database behind this build, and --migrate brings it up ready', async () => {
  const database = await testDatabase({ empty: true });
  databases.push(database);
  const port = await freePort();
  const env = { DATABASE_URL: database.url, CLOUDPODS_PORT: String(port), CLOUDPODS_HOST: '127.0.0.1' };
  const refused = run(['serve'], env);
  assert.is(refused.status, 1);
  assert.match(refused.stdout + refused.stderr, /schema is behind this build/);

  const child = spawn(process.execPath, [cli, 'serve', '--migrate'], { env: { ...baseEnv, ...env }, stdio: 'ignore' });
  try {
    await waitFor('serve --migrate to become ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status,
      (status) => status === 200, { timeoutMs: 30_000 });
  } finally {
    assert.is(await stopProcess(child), 0, 'SIGTERM stops serve cleanly');
  }
  // What the health page shows of it: each event under the component that logged it.
  const events = (await database.db.selectFrom('system_events').select(['service', 'level', 'message'])
    .where('level', '=', 'info').orderBy('id').execute()).map((e) => `${e.service} ${e.message}`);
  assert.equal(events, ['cloudpods migrations applied', 'jobs job engine started', 'api API listening',
    'cloudpods stopping', 'jobs job engine stopped']);
});

test('dev comes up with no configuration, prints tokens, writes dev.json, and keeps them across restarts', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cloudpods-dev-'));
  chmodSync(dataDir, 0o755);
  const env = { ...baseEnv, CLOUDPODS_DATA_DIR: dataDir, CLOUDPODS_PORT: '0' };
  const devFile = path.join(dataDir, 'dev.json');

  const startDev = () => startDevProcess(env);

  const first = await startDev();
  let firstTokens: { adminToken: string; tenantToken: string };
  try {
    assert.ok(existsSync(devFile));
    const dev = JSON.parse(readFileSync(devFile, 'utf8'));
    firstTokens = dev;
    for (const key of ['apiUrl', 'databaseUrl', 'adminToken', 'tenantToken']) assert.type(dev[key], 'string', key);
    assert.ok(first.out().includes(dev.adminToken), 'the admin token is printed');
    assert.ok(first.out().includes(dev.tenantToken), 'the tenant token is printed');
    assert.is((await fetch(`${dev.apiUrl}/readyz`)).status, 200);
    const me = await (await fetch(`${dev.apiUrl}/api/me`, { headers: { authorization: `Bearer ${dev.tenantToken}` } }))
      .json() as any;
    assert.is(me.principal.tenant.slug, 'demo');
    const admin = await (await fetch(`${dev.apiUrl}/api/me`, { headers: { authorization: `Bearer ${dev.adminToken}` } }))
      .json() as any;
    assert.is(admin.principal.admin, true);
    const tenantGet = async (path: string) =>
      (await fetch(`${dev.apiUrl}${path}`, { headers: { authorization: `Bearer ${dev.tenantToken}` } })).json() as any;
    const templates = await tenantGet('/api/cloud-pods/templates');
    assert.equal(templates.templates.map((t: any) => t.code).sort(),
      ['debian-12', 'laravel', 'node', 'ubuntu-24.04', 'wordpress'], 'the catalogue is seeded');
    const quota = await tenantGet('/api/cloud-pods/quota');
    assert.equal([quota.quota.source, quota.quota.cpu_cores.limit], ['subscriptions', 4], 'the demo tenant holds cloud-plus');
    assert.equal([dev.proxmox.simulated, typeof dev.proxmox.tlsFingerprint], [true, 'string'], 'dev.json names the simulator');
    const ordered = await (await fetch(`${dev.apiUrl}/api/cloud-pods`, { method: 'POST',
      headers: { authorization: `Bearer ${dev.tenantToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'web-1', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10,
        ...(dev.powerdns ? { hostname: `web-1.${dev.powerdns.zone}`, zone: dev.powerdns.zone } : {}) }) }))
      .json() as any;
    assert.ok(ordered.pod, JSON.stringify(ordered));
    const active = await waitFor('the dev pod to become active on the simulator',
      () => tenantGet(`/api/cloud-pods/${ordered.pod.id}`), (p) => p.pod?.status.phase === 'active', { timeoutMs: 60_000 });
    assert.ok(active.pod.status.vmid >= 10_000, 'a VMID from the default range');
    assert.ok(dev.powerdns, 'PowerDNS is installed here (.ci/run installs it), so dev runs it');
    const { answers } = await waitFor('the dev pod\'s name to be served', () => queryDns(
      { host: dev.powerdns.dnsHost, port: dev.powerdns.dnsPort }, `web-1.${dev.powerdns.zone}`, 'A'), (r) => r.answers.length > 0,
    { timeoutMs: 30_000 });
    assert.equal(answers.map((a) => a.data), active.pod.status.ip_addresses.filter((ip: string) => ip.includes('.')));
    // One-off commands find the running dev database through dev.json.
    const listed = run(['token', 'list', '--tenant', 'demo'], { CLOUDPODS_DATA_DIR: dataDir });
    assert.is(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /dev tenant/);
  } finally {
    assert.is(await stopProcess(first.child), 0);
  }

  const second = await startDev();
  try {
    const dev = JSON.parse(readFileSync(devFile, 'utf8'));
    assert.is(dev.adminToken, firstTokens.adminToken, 'tokens survive a restart');
    assert.is(dev.tenantToken, firstTokens.tenantToken);
    assert.is((await fetch(`${dev.apiUrl}/readyz`)).status, 200);
  } finally {
    assert.is(await stopProcess(second.child), 0);
  }
});

test.run();
