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
  // Room for many pods: the quota itself is tested elsewhere.
  await app.system.quotas.setOverride(tenant.id, { pods: 1000, cpu_cores: 10_000, memory_mb: 100_000_000,
    disk_gb: 1_000_000, bandwidth_gb: null, ipv4: null }, { type: 'system', id: 'test' });
  const permissions: Permission[] = ['cloudpods.view', 'cloudpods.manage'];
  const token = (await aToken(database.db, { tenant, permissions })).token;
  return {
    database, sim, app, tenant, token,
    async stop() {
      await app.stop();
      await sim.stop();
      await database.drop();
    },
  };
}

/** Polls the pod through the API until `accept` holds; fails naming the last state seen. */
export async function waitForPod(platform: Platform, id: string, what: string, accept: (pod: any) => boolean,
  timeoutMs = 20_000): Promise<any> {
  return waitFor(`pod ${what}`, async () => {
    const response = await platform.app.request('GET', `/api/cloud-pods/${id}`, { token: platform.token });
    return response.status === 404 ? null : response.body.pod;
  }, (pod) => accept(pod), { timeoutMs, intervalMs: 50 });
}
