import type { Permission } from '../../src/auth/permissions.ts';
import { platformCluster } from '../../src/sim/proxmox/presets.ts';
import type { SimulatorOverrides } from '../../src/sim/proxmox/simulator.ts';
import { seedDevCatalogue } from '../../src/tenancy/seed.ts';
import type { Tenant } from '../../src/tenancy/tenants.ts';
import { startTestApp, type TestApp } from './app.ts';
import { aTenant, aToken } from './fixtures.ts';
import { testDatabase, type TestDatabase } from './postgres.ts';
import { startTestSimulator, type TestSimulator, type TransportName } from './proxmox-sim.ts';
import { waitFor } from './wait.ts';

/** The whole system for pod tests: a database, the simulated cluster, the app with its controllers, a tenant. */
export interface Platform {
  database: TestDatabase;
  sim: TestSimulator;
  app: TestApp;
  tenant: Tenant;
  /** cloudpods.view and cloudpods.manage for the tenant. */
  token: string;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  transport?: TransportName;
  sim?: SimulatorOverrides;
  config?: Record<string, unknown>;
}

export async function startPlatform({ transport = 'ssh', sim: simOverrides = {}, config = {} }: PlatformOptions = {})
  : Promise<Platform> {
  const database = await testDatabase();
  const sim = await startTestSimulator(platformCluster(simOverrides));
  const tenant = await aTenant(database.db, 'acme');
  await seedDevCatalogue(database.db, tenant.id, { type: 'system', id: 'test' });
  const app = await startTestApp({
    databaseUrl: database.url, proxmox: sim.client(transport),
    overrides: { 'proxmox.taskPollIntervalMs': 50, 'proxmox.vmids.min': 1000, 'proxmox.vmids.max': 1999, ...config },
  });
  const token = await roomFor(database, app, tenant);
  return {
    database, sim, app, tenant, token,
    async stop() {
      await app.stop();
      await sim.stop();
      await database.drop();
    },
  };
}

/** Room for many pods (the quota itself is tested elsewhere), and a token with cloudpods.view and cloudpods.manage. */
async function roomFor(database: TestDatabase, app: TestApp, tenant: Tenant): Promise<string> {
  await app.system.quotas.setOverride(tenant.id, roomyQuota, { type: 'system', id: 'test' });
  const permissions: Permission[] = ['cloudpods.view', 'cloudpods.manage'];
  return (await aToken(database.db, { tenant, permissions })).token;
}

export const roomyQuota = { pods: 1000, cpu_cores: 10_000, memory_mb: 100_000_000, disk_gb: 1_000_000,
  bandwidth_gb: null, ipv4: null };

/** Another tenant as roomy as the platform's, for a test whose figures (quota use, lists) must be its own. */
export async function anotherTenant(platform: Platform): Promise<{ tenant: Tenant; token: string }> {
  const tenant = await aTenant(platform.database.db);
  return { tenant, token: await roomFor(platform.database, platform.app, tenant) };
}

/** Orders a small Ubuntu pod through the API (as the platform's tenant unless told) and waits until it is active. */
export async function anActivePod(platform: Platform, name: string, token = platform.token): Promise<any> {
  const created = await platform.app.request('POST', '/api/cloud-pods', { token,
    body: { name, template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } });
  if (created.status !== 202) throw new Error(`pod ${name} not ordered: ${created.status} ${JSON.stringify(created.body)}`);
  return waitForPod({ ...platform, token }, created.body.pod.id, `${name} active`, (p) => p?.status.phase === 'active');
}

/** Polls the pod through the API (with the platform's token) until `accept` holds; fails naming the last state seen. */
export async function waitForPod(platform: Platform, id: string, what: string, accept: (pod: any) => boolean,
  timeoutMs = 20_000): Promise<any> {
  return waitFor(`pod ${what}`, async () => {
    const response = await platform.app.request('GET', `/api/cloud-pods/${id}`, { token: platform.token });
    return response.status === 404 ? null : response.body.pod;
  }, (pod) => accept(pod), { timeoutMs, intervalMs: 50 });
}
