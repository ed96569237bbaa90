import type { Browser, BrowserContext, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { csrfTokenFor } from '../src/ui/session.ts';
import { startTestApp, type TestApp } from './support/app.ts';
import { launchChromium } from './support/browser.ts';
import { aTenant, aToken } from './support/fixtures.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('admin pages in a real browser');
let database: TestDatabase;
let app: TestApp;
let browser: Browser;
/** One page for the suite; its cookies (the session) are cleared before each test. */
let context: BrowserContext;
let page: Page;
let adminToken: string;

test.before(async () => {
  database = await testDatabase();
  app = await startTestApp({ databaseUrl: database.url });
  adminToken = (await aToken(database.db, { admin: true, permissions: ['settings.manage', 'health.view'] })).token;
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
});
test.before.each(async () => { await context.clearCookies(); });

test.after(async () => {
  await browser?.close();
  await app?.stop();
  await database?.drop();
});

/** The session signing in with the admin token leaves (the sign-in test checks the form sets exactly this), on `path`. */
async function signedIn(path: string): Promise<void> {
  await context.addCookies([{ name: 'cloudpods_admin', value: adminToken, domain: new URL(app.url).hostname, path: '/admin',
    httpOnly: true, sameSite: 'Strict' }]);
  await page.goto(`${app.url}${path}`);
}

/** The branding settings a test starts from (null: the default). */
const startFrom = (values: Record<string, unknown>) => app.system.settings.update(values, { type: 'system', id: 'test' });

test('an unauthenticated visit goes to the login form; a non-admin token is turned away', async () => {
  await page.goto(`${app.url}/admin/settings`);
  assert.is(new URL(page.url()).pathname, '/admin/login');
  const tenantToken = (await aToken(database.db, { tenant: await aTenant(database.db), permissions: ['settings.manage'] }))
    .token;
  await page.fill('#token', tenantToken);
  await page.click('button[type=submit]');
  assert.match(await page.textContent('[role=alert]') ?? '', /need a token with admin scope/);
});

test('signing in sets an HttpOnly, SameSite=Strict cookie and shows the settings', async () => {
  await startFrom({ 'platform.brand_name': null });
  await page.goto(`${app.url}/admin/login`);
  await page.fill('#token', adminToken);
  await page.click('button[type=submit]');
  await page.waitForURL(`${app.url}/admin/settings`);
  const [cookie] = await page.context().cookies();
  assert.equal([cookie?.name, cookie?.httpOnly, cookie?.sameSite, cookie?.path],
    ['cloudpods_admin', true, 'Strict', '/admin']);
  assert.is(await page.textContent('[data-testid=brand]'), 'CloudPods');
  assert.ok(await page.isVisible('#ns-cloudpods'));
  assert.ok(await page.isVisible('#ns-platform'));
});

test('editing a value saves it, shows success and the new branding', async () => {
  await startFrom({ 'platform.brand_name': null });
  await signedIn('/admin/settings');
  await page.fill('#s-platform\\.brand_name', 'Acme Hosting');
  await page.click('#ns-platform button[type=submit]');
  await page.waitForSelector('[role=status]');
  assert.is(await page.textContent('[role=status]'), 'Saved platform settings.');
  assert.is(await page.textContent('[data-testid=brand]'), 'Acme Hosting');
  assert.is(await app.system.settings.getString('platform.brand_name'), 'Acme Hosting');
  const audit = await database.db.selectFrom('cloud_pod_audit').selectAll().where('category', '=', 'settings')
    .orderBy('id', 'desc').executeTakeFirstOrThrow();
  assert.equal([audit.actor_type, (audit.details as any).name, (audit.details as any).new],
    ['token', 'platform.brand_name', 'Acme Hosting']);
});

test('a bad value shows its validation error next to the field and nothing is saved', async () => {
  await startFrom({ 'platform.brand_name': 'Acme Hosting', 'platform.primary_color': null });
  await signedIn('/admin/settings');
  await page.fill('#s-platform\\.primary_color', 'blue');
  await page.fill('#s-platform\\.brand_name', 'Should Not Stick');
  await page.click('#ns-platform button[type=submit]');
  await page.waitForSelector('[data-testid="error-platform.primary_color"]');
  assert.is(await page.textContent('[data-testid="error-platform.primary_color"]'), 'expected a colour such as #2563eb');
  assert.match(await page.textContent('.notice.error') ?? '', /Nothing was saved/);
  assert.is(await page.inputValue('#s-platform\\.primary_color'), 'blue', 'the rejected text is shown for correction');
  assert.is(await page.evaluate('document.activeElement?.id'), 's-platform.primary_color',
    'the field to fix has the focus');
  assert.is(await app.system.settings.getString('platform.primary_color'), '#2563eb');
  assert.is(await app.system.settings.getString('platform.brand_name'), 'Acme Hosting');
  await page.screenshot({ path: '/tmp/cloudpods-admin-settings-error.png', fullPage: false });
});

test('the health page lists recent system events and filters them', async () => {
  app.logger.warn({ node: 'pve2' }, 'storage local-lvm is 93% full');
  app.logger.error('clone of template 9000 failed');
  await waitFor('both events stored', async () => (await database.db.selectFrom('system_events').select('id')
    .where('message', 'in', ['storage local-lvm is 93% full', 'clone of template 9000 failed']).execute()).length,
  (n) => n === 2);
  await signedIn('/admin/health');
  const rows = await page.locator('tbody tr').allTextContents();
  assert.ok(rows.some((r) => r.includes('storage local-lvm is 93% full')), rows.join('\n'));
  assert.ok(rows.some((r) => r.includes('clone of template 9000 failed')));
  await page.selectOption('#level', 'error');
  await page.click('form.filters button');
  const errors = await page.locator('tbody tr').allTextContents();
  assert.ok(errors.every((r) => !r.includes('93% full')) && errors.some((r) => r.includes('clone of template')));
  await page.screenshot({ path: '/tmp/cloudpods-admin-health.png', fullPage: true });
});

test('the health page shows queue depths by status, oldest pending age and the workers', async () => {
  await app.system.jobs.enqueue(database.db, { queue: 'health', type: 'ui.probe', runAt: new Date(Date.now() + 3_600_000) });
  await signedIn('/admin/health');
  const row = await page.locator('#queues tr[data-queue="health"]').textContent();
  assert.match(row ?? '', /health\s*1\s*0\s*0\s*0\s*0/, `pending 1, nothing else: ${row}`);
  const workers = await page.locator('#queues tbody').nth(1).textContent();
  assert.match(workers ?? '', /online/, 'this process\'s workers are listed as online');
});

test('a form post without the session CSRF token changes nothing (403)', async () => {
  await startFrom({ 'platform.brand_name': 'Acme Hosting' });
  const cookie = `cloudpods_admin=${adminToken}`;
  const post = (body: string) => fetch(`${app.url}/admin/settings/platform`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body,
  });
  const forged = await post('brand_name=Forged');
  assert.is(forged.status, 403);
  assert.is(await app.system.settings.getString('platform.brand_name'), 'Acme Hosting');
  const genuine = await post(`brand_name=Genuine&csrf=${csrfTokenFor(adminToken)}`);
  assert.is(genuine.status, 303);
  assert.is(await app.system.settings.getString('platform.brand_name'), 'Genuine');
});

test('signing out ends the session', async () => {
  await signedIn('/admin/settings');
  await page.click('header button');
  await page.waitForURL(/\/admin\/login\?reason=signed-out/);
  await page.goto(`${app.url}/admin/settings`);
  assert.is(new URL(page.url()).pathname, '/admin/login');
});

test.run();
