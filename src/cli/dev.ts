import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { permissions, type Permission } from '../auth/permissions.ts';
import { checkToken, issueApiToken } from '../auth/tokens.ts';
import { loadConfig } from '../config.ts';
import { openDatabase, type Db } from '../db/database.ts';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { systemActor } from '../observability/audit.ts';
import { maskSecretsInText } from '../observability/logger.ts';
import { createProcessLogging } from '../observability/process-logging.ts';
import type { SystemSettingsService } from '../settings/service.ts';
import { startSystem } from '../system.ts';
import { startDevPowerDns } from '../powerdns/dev.ts';
import { startDevProxmox } from './dev-proxmox.ts';
import { seedDevCatalogue } from '../tenancy/seed.ts';
import { createTenant, findTenant, type Tenant } from '../tenancy/tenants.ts';
import { devFilePath, print, readDevFile, untilStopSignal, type DevFile } from './common.ts';

export const devUsage = `cloudpods dev [--reset] [--port N]
  The whole system on one machine with no configuration: embedded PostgreSQL (data under .cloudpods/),
  migrations, the API and everything else in one process. Prints an admin token and a demo tenant's token
  and writes them with the endpoints to .cloudpods/dev.json.
  --reset    delete .cloudpods/ first and start clean
  --port N   API port (default 8080, or CLOUDPODS_PORT)`;

const devActor = systemActor('dev');
const demoTenant = { slug: 'demo', name: 'Demo tenant' };
const tenantPermissions: Permission[] = ['cloudpods.view', 'cloudpods.manage', 'cloudpods.volumes.manage', 'hooks.manage'];

export async function devCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true,
    options: { reset: { type: 'boolean', default: false }, port: { type: 'string' } },
  });
  const config = loadConfig({ mode: 'dev', overrides: { 'server.port': values.port } });
  const { logger, events } = createProcessLogging(config.log.level);
  const dataDir = path.resolve(config.dev.dataDir);
  if (values.reset) await fs.rm(dataDir, { recursive: true, force: true });
  await fs.mkdir(dataDir, { recursive: true });

  const embedded = config.database.url ? undefined
    : await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), onLog: (line) => logger.debug(line) });
  const databaseUrl = config.database.url ?? await ensureDatabase(embedded!.adminUrl, 'cloudpods');

  const db = openDatabase({ url: databaseUrl, poolMax: 2 });
  let devFile: DevFile;
  try {
    const report = await migrateToLatest(db);
    if (report.applied.length > 0) logger.info({ event: true, applied: report.applied }, 'migrations applied');
    const tenant = (await findTenant(db, demoTenant.slug)) ?? (await createTenant(db, demoTenant, devActor));
    await seedDevCatalogue(db, tenant.id, devActor);
    const previous = readDevFile(config);
    devFile = {
      apiUrl: '',
      databaseUrl,
      adminToken: await reuseOrIssue(db, previous?.adminToken, 'dev admin', null, [...permissions], true),
      tenantToken: await reuseOrIssue(db, previous?.tenantToken, 'dev tenant', tenant, tenantPermissions, false),
      tenant: { id: tenant.id, slug: tenant.slug },
    };
  } finally {
    await db.destroy();
  }

  const proxmox = await startDevProxmox(config, logger);
  const dns = await startDevPowerDns(config, logger, print);
  const system = await startSystem({ config: dns.config, logger, databaseUrl, events, proxmox: proxmox.client }).catch(async (error) => {
    await dns.stop();
    await proxmox.stop();
    await embedded?.stop();
    throw error;
  });
  devFile.apiUrl = system.http.url;
  devFile.proxmox = proxmox.info;
  if (dns.info) {
    devFile.powerdns = dns.info;
    await allowDemoZone(system.settings, dns.info.zone);
  }
  await fs.writeFile(devFilePath(config), `${JSON.stringify(devFile, null, 2)}\n`, { mode: 0o600 });
  printBanner(devFile, config.dev.dataDir, embedded !== undefined);

  const signal = await untilStopSignal();
  logger.info({ event: true, signal }, 'stopping');
  await system.stop();
  await proxmox.stop();
  await dns.stop();
  await embedded?.stop();
  return 0;
}

/** The demo tenant may name its pods in the demo zone, so `hostname` works in dev without setup. */
async function allowDemoZone(settings: SystemSettingsService, zone: string): Promise<void> {
  const zones = await settings.getJson<Record<string, string[]>>('cloudpods.dns.tenant_zones');
  if (zones[demoTenant.slug]?.includes(zone)) return;
  await settings.update({ 'cloudpods.dns.tenant_zones': { ...zones, [demoTenant.slug]: [...(zones[demoTenant.slug] ?? []), zone] } },
    devActor);
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!exists.rowCount) await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Tokens survive restarts through dev.json; a revoked, expired or unknown one is replaced. */
async function reuseOrIssue(db: Db, previous: string | undefined, name: string, tenant: Tenant | null,
  granted: Permission[], isAdmin: boolean): Promise<string> {
  if (previous && (await checkToken(db, previous)).ok) return previous;
  const issued = await issueApiToken(db, {
    name, tenantId: tenant?.id ?? null, permissions: granted, isAdmin, expiresAt: null,
  }, devActor);
  return issued.token;
}

function printBanner(dev: DevFile, dataDir: string, embedded: boolean): void {
  print('');
  print('CloudPods dev is running');
  print(`  API            ${dev.apiUrl}`);
  print(`  admin token    ${dev.adminToken}`);
  print(`  tenant token   ${dev.tenantToken}  (tenant "${dev.tenant.slug}")`);
  print(`  database       ${maskSecretsInText(dev.databaseUrl)}${embedded ? `  (embedded, data in ${dataDir}/postgres)` : ''}`);
  if (dev.proxmox) {
    print(`  Proxmox VE     ${dev.proxmox.url}${dev.proxmox.simulated ? '  (simulator: 3 nodes, templates 9000 debian-12 and 9001 ubuntu-24-04)' : ''}`);
  }
  if (dev.powerdns) print(`  PowerDNS       ${dev.powerdns.apiUrl}  (DNS on ${dev.powerdns.dnsHost}:${dev.powerdns.dnsPort}, zone ${dev.powerdns.zone})`);
  print(`  endpoints      ${path.join(dataDir, 'dev.json')}`);
  print('');
  print('Try:');
  print(`  curl ${dev.apiUrl}/readyz`);
  print(`  curl -H "Authorization: Bearer ${dev.tenantToken}" ${dev.apiUrl}/api/me`);
  print(`  curl -H "Authorization: Bearer ${dev.tenantToken}" -H 'Content-Type: application/json' \\`);
  print(`    -d '{"name":"web-1","template":"ubuntu-24.04","cpu_cores":1,"memory_mb":1024,"disk_gb":10}' ${dev.apiUrl}/api/cloud-pods`);
  print(`  curl -H "Authorization: Bearer ${dev.tenantToken}" ${dev.apiUrl}/api/cloud-pods`);
  print('');
}

