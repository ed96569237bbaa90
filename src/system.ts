import { buildApp } from './api/app.ts';
import { listen, type HttpServer } from './api/server.ts';
import type { Config } from './config.ts';
import { openDatabase, type Db } from './db/database.ts';
import { shippedMigrationNames } from './db/migrate.ts';
import { ProcessPresence } from './db/presence.ts';
import { defineMaintenanceTask, JobEngine, jobRetentionTask } from './jobs/index.ts';
import type { SystemEventSink } from './observability/event-sink.ts';
import { componentLogger, type Logger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { SystemSettingsService } from './settings/service.ts';
import { CloudPodQuotasService } from './tenancy/quotas.ts';
import { registerPodController } from '../controllers/pod/register.ts';
import { registerVolumeController } from '../controllers/volume/register.ts';
import { registerHealthController, type HealthController } from '../controllers/health/register.ts';
import { registerDnsController } from '../controllers/dns-record/register.ts';
import { defineLifecycleEvents } from './hooks/fan-out.ts';
import { defineHookDelivery } from './hooks/execute.ts';
import { podKind } from './pods/kind.ts';
import { tenantProbes } from './health/probe-runner.ts';
import { hookDeliveriesRetentionTask } from './hooks/ledger.ts';
import { idempotencyKeysRetentionTask } from './api/idempotency.ts';
import { auditRetentionTask } from './observability/audit-retention.ts';
import { systemEventsRetentionTask } from './observability/events-retention.ts';
import { subscriptionExpiryTask } from './tenancy/subscriptions.ts';
import { defineDnsHealthCheck } from './dns/health.ts';
import type { ProxmoxClient } from './proxmox/client.ts';
import { proxmoxClientFromConfig } from './proxmox/from-config.ts';
import { ClusterLookup } from './proxmox/cluster-lookup.ts';
import { powerDnsFromConfig } from './powerdns/context.ts';
import { startKubeFrontDoor, type KubeFrontDoor } from './kube/front-door.ts';

/** Everything one CloudPods process runs; `dev` and `serve` both start it, differing only in how they get here. */
export interface RunningSystem {
  db: Db;
  metrics: Metrics;
  settings: SystemSettingsService;
  quotas: CloudPodQuotasService;
  /** The job engine, running the maintenance schedules; everything enqueues through it. */
  jobs: JobEngine;
  http: HttpServer;
  /** The API as built (its routes, for tests that walk every one). */
  api: ReturnType<typeof buildApp>;
  /** The Kubernetes front door, when a cluster is configured (only the Lease holder bridges). */
  kube: KubeFrontDoor | null;
  /** The health controller, when Proxmox is configured (tests run a cycle at once through it). */
  health: HealthController | null;
  stop(): Promise<void>;
}

export interface SystemOptions {
  config: Config;
  logger: Logger;
  /** Database URL to use; `dev` passes the embedded server's. */
  databaseUrl: string;
  /** The logger's system_events sink, started here once the database is open. */
  events?: SystemEventSink;
  /** Proxmox VE client; default: built from `config.proxmox` when it names a URL. Without one, no pod controller runs. */
  proxmox?: ProxmoxClient;
}

/**
 * Each component logs through a logger of its own (`componentLogger`), so its lines and system events carry its
 * name as `service`: api, jobs, scheduler, worker:<queue>, controller:<kind>, settings, kube, kube-bridge, proxmox,
 * powerdns; the process's own lines (start, stop, migrations) are the root logger's.
 */
export async function startSystem({ config, logger, databaseUrl, events, proxmox = config.proxmox.url
  ? proxmoxClientFromConfig(config.proxmox, componentLogger(logger, 'proxmox')) : undefined }: SystemOptions)
  : Promise<RunningSystem> {
  const component = (name: string) => componentLogger(logger, name);
  const db = openDatabase({
    url: databaseUrl,
    poolMax: config.database.poolMax,
    statementTimeoutMs: config.database.statementTimeoutMs,
    onPoolError: (error) => logger.warn({ err: error }, 'database connection lost; the pool will reconnect'),
  });
  const presence = new ProcessPresence({ url: databaseUrl, logger });
  await presence.start();
  const metrics = createMetrics();
  const settings = new SystemSettingsService({ db, databaseUrl, logger: component('settings'),
    registry: metrics.registry });
  events?.attach(db, metrics.registry, settings);
  await settings.start();
  const jobs = new JobEngine({ db, databaseUrl, logger, settings, registry: metrics.registry });
  // Daily housekeeping: the engine's own, then each module's, at the minutes they name.
  for (const task of [jobRetentionTask(db, settings), auditRetentionTask(db, settings),
    systemEventsRetentionTask(db, settings), idempotencyKeysRetentionTask(db), subscriptionExpiryTask(db),
    hookDeliveriesRetentionTask(db, settings)]) defineMaintenanceTask(jobs, logger, task);
  const pdns = powerDnsFromConfig(config, component('powerdns'));
  if (pdns) {
    // The DNS controller and its health check, on a process whose configuration names a PowerDNS.
    const dnsLogger = component('controller:dns-record');
    registerDnsController({ engine: jobs, db, logger: dnsLogger, pdns, registry: metrics.registry,
      resyncEveryMs: await settings.getNumber('cloudpods.dns.resync_interval_seconds') * 1000 });
    defineDnsHealthCheck(jobs, db, pdns, componentLogger(dnsLogger, 'dns-health'),
      await settings.getNumber('cloudpods.dns.health_check_interval_seconds') * 1000);
  }
  // Controllers define their tasks before the engine starts working the queues.
  defineLifecycleEvents(jobs, db);
  defineHookDelivery(jobs, { db, settings, logger, scriptsDirectory: config.hooks.scriptsDirectory,
    wakePod: (trx, podId) => podKind.enqueue(jobs, trx, podId) });
  const quotas = new CloudPodQuotasService(db, settings);
  let cluster: ClusterLookup | null = null;
  let health: HealthController | null = null;
  if (proxmox) {
    // Reconciles mostly wait on Proxmox tasks, holding no database connection: many may run at once.
    jobs.defineQueue('cloudpods', { concurrency: 64 });
    const view = registerPodController({ engine: jobs, db, logger: component('controller:pod'), registry: metrics.registry,
      proxmox, quotas }, {
      vmids: config.proxmox.vmids, clonesPerNode: config.proxmox.concurrency.clonesPerNode,
      taskPollMs: config.proxmox.taskPollIntervalMs, dns: pdns !== null,
    });
    // Orders check names against the controller's view: one cluster/resources call shared for a few seconds.
    cluster = new ClusterLookup(view, component('proxmox'));
    registerVolumeController({ engine: jobs, db, logger: component('controller:volume'), registry: metrics.registry, proxmox },
      { taskPollMs: config.proxmox.taskPollIntervalMs });
    health = registerHealthController({ engine: jobs, db, logger: component('controller:health'), registry: metrics.registry,
      proxmox, cluster: view, settings, probes: tenantProbes(settings) });
  } else {
    logger.warn('no Proxmox VE configured (CLOUDPODS_PROXMOX_URL): pods are accepted but not provisioned');
  }
  await jobs.start();
  await health?.schedule();
  const apiLogger = component('api');
  const app = buildApp({ config, db, presence, logger: apiLogger, metrics, settings, quotas, jobs, pdns, cluster,
    shippedMigrations: await shippedMigrationNames() });
  let http: HttpServer;
  try {
    http = await listen(app, config.server);
  } catch (error) {
    await jobs.stop();
    await settings.stop();
    await presence.stop();
    await events?.detach();
    await db.destroy();
    throw error;
  }
  apiLogger.info({ event: true, url: http.url }, 'API listening');
  const kube = startKubeFrontDoor(config.kube, { db, engine: jobs, quotas, cluster, settings, pdns,
    scriptsDirectory: config.hooks.scriptsDirectory }, databaseUrl, logger);

  let stopping: Promise<void> | undefined;
  return {
    db,
    metrics,
    settings,
    quotas,
    jobs,
    http,
    api: app,
    kube,
    health,
    stop() {
      stopping ??= (async () => {
        await kube?.stop();
        await http.close(config.server.shutdownTimeoutMs);
        await jobs.stop(); // drain: in-flight jobs finish or are handed back
        await proxmox?.close();
        await settings.stop();
        await presence.stop(); // after the HTTP server: in-flight requests kept their keys until they ended
        await events?.detach();
        await db.destroy();
      })();
      return stopping;
    },
  };
}
