import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { ProcessPresence } from '../db/presence.ts';
import type { Logger } from '../observability/logger.ts';
import type { JobEngine } from '../jobs/engine.ts';
import type { PowerDns } from '../powerdns/context.ts';
import type { ClusterLookup } from '../proxmox/cluster-lookup.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { SystemSettingsService } from '../settings/service.ts';
import type { CloudPodQuotasService } from '../tenancy/quotas.ts';
import type { Principal } from './principal.ts';

/** What routes need from the running system; passed in, so tests build the app around a test database. */
export interface ApiDeps {
  config: Config;
  db: Db;
  /** This process's presence lock: idempotency keys in progress carry it. */
  presence: ProcessPresence;
  logger: Logger;
  metrics: Metrics;
  settings: SystemSettingsService;
  quotas: CloudPodQuotasService;
  /** The job engine: writes enqueue their reconciles through it, in their own transactions. */
  jobs: JobEngine;
  /** PowerDNS, when configured: zone checks of DNS names. */
  pdns: PowerDns | null;
  /** Proxmox, when configured: the controller's cached cluster view, for order-time checks of nodes, storages, VMs. */
  cluster: ClusterLookup | null;
  /** Names of the migrations this build ships, for /readyz. */
  shippedMigrations: readonly string[];
}

/** Hono environment of the app: request-scoped variables set by middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
  };
}
