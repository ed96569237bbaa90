import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { renderCloudInit } from '../src/tenancy/cloud-init.ts';
import { PlanRequiredError } from '../src/tenancy/errors.ts';
import { planCovers } from '../src/tenancy/plans.ts';
import { stackOptionSchemas } from '../src/tenancy/stacks.ts';
import { changeSubscription, subscribe } from '../src/tenancy/subscriptions.ts';
import { parseAppOptions, validateTemplateForTenant } from '../src/tenancy/templates.ts';
import { aPlan, aTemplate, aTenant } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

const test = suite('templates v2: minimum plans, app stacks and cloud-init');
const actor = { type: 'system' as const, id: 'test' };
let database: TestDatabase;

test.before(async () => { database = await testDatabase(); });
test.after(async () => { await database?.drop(); });

test('plan order: a plan covers another when it grants at least as much of every resource', () => {
  const plan = (cpu_cores: number, memory_mb: number, disk_gb: number, ipv4_count: number) =>
    ({ cpu_cores, memory_mb, disk_gb, ipv4_count });
  const cases: Array<[string, ReturnType<typeof plan>, ReturnType<typeof plan>, boolean]> = [
    ['equal', plan(2, 4096, 80, 1), plan(2, 4096, 80, 1), true],
    ['larger in everything', plan(4, 8192, 160, 2), plan(2, 4096, 80, 1), true],
    ['smaller', plan(2, 4096, 80, 1), plan(4, 8192, 160, 2), false],
    ['more CPU but less disk: incomparable', plan(8, 4096, 40, 1), plan(2, 4096, 80, 1), false],
    ['fewer addresses', plan(4, 8192, 160, 0), plan(2, 4096, 80, 1), false],
  ];
  for (const [name, a, b, expected] of cases) assert.is(planCovers(a, b), expected, name);
});

test('a minimum plan needs an active subscription to it or to a plan covering it', async () => {
  const db = database.db;
  const basic = await aPlan(db, { cpu_cores: 2, memory_mb: 4096, disk_gb: 80, ipv4_count: 1 });
  const plus = await aPlan(db, { cpu_cores: 4, memory_mb: 8192, disk_gb: 160, ipv4_count: 2 });
  const diskHeavy = await aPlan(db, { cpu_cores: 1, memory_mb: 2048, disk_gb: 1000, ipv4_count: 1 });
  const open = await aTemplate(db);
  const needsPlus = await aTemplate(db, { minimum_plan_code: plus.code });
  const tenant = await aTenant(db);

  const refused = async (template = needsPlus) => {
    try {
      await validateTemplateForTenant(db, template, tenant.id);
      return null;
    } catch (error) {
      assert.instance(error, PlanRequiredError);
      return (error as PlanRequiredError).details;
    }
  };
  assert.is(await refused(open), null, 'no minimum plan: anyone');
  assert.equal(await refused(), { template: needsPlus.code, minimum_plan_code: plus.code }, 'no subscription');
  await subscribe(db, { tenantId: tenant.id, planId: basic.id, quantity: 4 }, actor);
  assert.ok(await refused(), 'four smaller units are not the larger plan');
  await subscribe(db, { tenantId: tenant.id, planId: diskHeavy.id, quantity: 1 }, actor);
  assert.ok(await refused(), 'an incomparable plan does not cover it');
  const exact = await subscribe(db, { tenantId: tenant.id, planId: plus.id, quantity: 1 }, actor);
  assert.is(await refused(), null, 'the plan itself');
  await changeSubscription(db, tenant.id, exact.id, { status: 'cancelled' }, actor);
  assert.ok(await refused(), 'a cancelled subscription does not count');
  const pro = await aPlan(db, { cpu_cores: 8, memory_mb: 16384, disk_gb: 320, ipv4_count: 4 });
  await subscribe(db, { tenantId: tenant.id, planId: pro.id, quantity: 1 }, actor);
  assert.is(await refused(), null, 'a larger plan');
});

const context = { hostname: 'shop.example.com', databasePassword: 'pw-Zx81_secret' };

function cloudConfig(text: string): any {
  assert.ok(text.startsWith('#cloud-config\n'), 'starts with the #cloud-config marker');
  const parsed = parse(text);
  assert.type(parsed, 'object');
  return parsed;
}

test('wordpress renders valid cloud-config with MariaDB, nginx, PHP and the site installed', () => {
  const options = stackOptionSchemas.wordpress.parse({ site_title: 'Acme Shop', admin_email: 'ops@acme.test', redis: true });
  const config = cloudConfig(renderCloudInit('wordpress', options, context));
  assert.is(config.package_update, true);
  for (const pkg of ['nginx', 'php-fpm', 'php-mysql', 'mariadb-server', 'redis-server', 'php-redis']) {
    assert.ok(config.packages.includes(pkg), pkg);
  }
  const sqlFile = config.write_files.find((f: any) => f.path === '/root/.cloudpods/wordpress-db.sql');
  assert.is(sqlFile.permissions, '0600');
  assert.match(sqlFile.content, /IDENTIFIED BY 'pw-Zx81_secret'/);
  const commands = config.runcmd.map((c: string[]) => c.join(' '));
  assert.ok(commands.some((c: string) => c.includes('wp core install') && c.includes('--url=http://shop.example.com')
    && c.includes('--title=Acme Shop') && c.includes('--admin_email=ops@acme.test')));
  assert.ok(config.runcmd.every((c: unknown) => Array.isArray(c)), 'commands are argument lists: no shell parsing of options');
  assert.match(config.final_message, /Acme Shop/);
});

test('laravel renders its database choice, PHP version and redis into packages and .env', () => {
  const postgres = cloudConfig(renderCloudInit('laravel',
    stackOptionSchemas.laravel.parse({ app_name: 'Billing', php_version: '8.2' }), context));
  for (const pkg of ['php8.2-fpm', 'php8.2-pgsql', 'postgresql', 'composer']) assert.ok(postgres.packages.includes(pkg), pkg);
  assert.not.ok(postgres.packages.includes('redis-server'));
  const env = postgres.write_files.find((f: any) => f.path === '/root/.cloudpods/laravel.env').content;
  assert.match(env, /DB_CONNECTION=pgsql/);
  assert.match(env, /APP_NAME="Billing"/);

  const mysql = cloudConfig(renderCloudInit('laravel',
    stackOptionSchemas.laravel.parse({ database: 'mysql', redis: true }), context));
  for (const pkg of ['php8.3-mysql', 'mariadb-server', 'redis-server']) assert.ok(mysql.packages.includes(pkg), pkg);
  assert.match(mysql.write_files.find((f: any) => f.path.endsWith('laravel.env')).content, /CACHE_STORE=redis/);
});

test('node renders the chosen Node.js version, an optional database and the app service', () => {
  const bare = cloudConfig(renderCloudInit('node', stackOptionSchemas.node.parse({}), context));
  assert.ok(bare.runcmd.some((c: string[]) => c.join(' ').includes('setup_22.x')));
  assert.not.ok(bare.packages.includes('postgresql'));
  assert.match(bare.final_message, /deploy your app to \/srv\/app/);

  const full = cloudConfig(renderCloudInit('node', stackOptionSchemas.node.parse({
    node_version: '24', database: 'postgres', redis: true, app_port: 8080, repository: 'https://git.example.com/app.git',
  }), context));
  assert.ok(full.runcmd.some((c: string[]) => c.join(' ').includes('setup_24.x')));
  for (const pkg of ['postgresql', 'redis-server']) assert.ok(full.packages.includes(pkg), pkg);
  const unit = full.write_files.find((f: any) => f.path === '/etc/systemd/system/app.service').content;
  assert.match(unit, /Environment=PORT=8080/);
  assert.ok(full.runcmd.some((c: string[]) => c[0] === 'git' && c.includes('https://git.example.com/app.git')));
});

test('app options are checked against the stack; OS templates take none', async () => {
  const wordpress = await aTemplate(database.db, { type: 'app', app_stack: 'wordpress' });
  const os = await aTemplate(database.db);
  const bad = parseAppOptions(wordpress, { database: 'postgres', admin_email: 'nope', colour: 'red' });
  assert.is(bad.ok, false);
  if (!bad.ok) {
    const paths = bad.error.issues.map((i) => i.code === 'unrecognized_keys' ? i.keys.join() : i.path.join('.')).sort();
    assert.equal(paths, ['admin_email', 'colour', 'database']);
  }
  const good = parseAppOptions(wordpress, { admin_email: 'a@b.test' });
  assert.equal(good.ok && good.options, { site_title: 'My WordPress site', admin_user: 'admin', admin_email: 'a@b.test',
    database: 'mysql', redis: false });
  assert.is(parseAppOptions(os, {}).ok, true);
  assert.is(parseAppOptions(os, { redis: true }).ok, false);
  const node = await aTemplate(database.db, { type: 'app', app_stack: 'node' });
  assert.is(parseAppOptions(node, { repository: 'http://insecure.example.com/x.git' }).ok, false, 'https only');
});

test.run();
