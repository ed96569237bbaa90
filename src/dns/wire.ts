import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import { registerDnsController } from '../../controllers/dns-record/index.ts';
import type { Database } from '../db/schema.ts';
import type { JobEngine } from '../jobs/index.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import type { PowerDns } from '../powerdns/context.ts';
import type { SystemSettingsService } from '../settings/service.ts';
import { defineDnsHealthCheck } from './health.ts';

export interface DnsWorkDeps {
  engine: JobEngine;
  db: Kysely<Database>;
  logger: Logger;
  settings: Pick<SystemSettingsService, 'getNumber'>;
  pdns: PowerDns;
  registry?: Registry;
}

/** The DNS controller and its health check, on a process whose configuration names a PowerDNS. Before engine.start(). */
export async function registerDnsWork({ engine, db, logger, settings, pdns, registry }: DnsWorkDeps): Promise<void> {
  const resyncSeconds = await settings.getNumber('cloudpods.dns.resync_interval_seconds');
  const healthSeconds = await settings.getNumber('cloudpods.dns.health_check_interval_seconds');
  registerDnsController({ engine, db, logger, pdns, resyncEveryMs: resyncSeconds * 1000, ...(registry ? { registry } : {}) });
  defineDnsHealthCheck(engine, db, pdns, componentLogger(logger, 'dns-health'), healthSeconds * 1000);
}
