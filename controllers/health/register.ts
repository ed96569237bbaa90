import { Counter, type Registry } from 'prom-client';
import type { JobEngine } from '../../src/jobs/engine.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import type { SystemSettingsService } from '../../src/settings/service.ts';
import type { ClusterView } from '../pod/cluster-view.ts';
import { checkFleet, type CycleSummary } from './cycle.ts';
import type { ProbeRunner } from './observe.ts';

export const healthQueue = 'health';
export const healthCheckJobType = 'pod.health.check';
/** One cycle pending and one running for the whole fleet, across every process. */
const cycleKey = 'pod.health.check:fleet';

export interface HealthControllerDeps {
  engine: JobEngine;
  db: Kysely<Database>;
  logger: Logger;
  registry?: Registry;
  proxmox: ProxmoxClient;
  /** The pod controller's view: a cycle's bulk look refreshes the snapshot its reconciles share. */
  cluster: ClusterView;
  settings: SystemSettingsService;
  /** Tenant probes (src/health/probe.ts), when that runner exists: without it only the VM and its agent are checked. */
  probes?: ProbeRunner;
  pingsPerNode?: number;
  agentTimeoutMs?: number;
}

export interface HealthController {
  /** Runs one cycle now (tests, the benchmark); the engine's job runs the same. */
  checkFleet(signal?: AbortSignal): Promise<CycleSummary>;
  /** Asks for the next cycle one interval from now (merged into a pending one); `startSystem` calls it once. */
  schedule(): Promise<void>;
}

/**
 * The health controller: the `pod.health.check` job on the `health` queue runs one cycle over the fleet, then asks
 * for the next one `cloudpods.health.check_interval_seconds` later, read from the settings at every cycle, so a
 * change applies from the next cycle without a restart. A `pod.health.kick` schedule asks again every minute, so a
 * chain lost with a dead job starts again.
 */
export function registerHealthController(deps: HealthControllerDeps): HealthController {
  const { engine, db } = deps;
  const log = deps.logger.child({ controller: 'health' });
  const healed = deps.registry ? new Counter({ name: 'cloudpods_auto_heal_total', labelNames: ['action', 'result'],
    registers: [deps.registry], help: 'Auto-heal actions by action and result (started, failed; given_up).' }) : undefined;
  const cycleDeps = { db, engine, settings: deps.settings, cluster: deps.cluster, log, proxmox: deps.proxmox,
    pingsPerNode: deps.pingsPerNode ?? 4, agentTimeoutMs: deps.agentTimeoutMs ?? 5_000,
    ...(deps.probes ? { probes: deps.probes } : {}), ...(healed ? { healed } : {}) };
  const schedule = async () => {
    const intervalMs = await deps.settings.getNumber('cloudpods.health.check_interval_seconds') * 1000;
    await engine.enqueue(db, { queue: healthQueue, type: healthCheckJobType, key: cycleKey,
      runAt: new Date(Date.now() + intervalMs) });
  };
  engine.defineQueue(healthQueue, { concurrency: 1 });
  engine.defineTask({
    queue: healthQueue, type: healthCheckJobType, timeoutMs: 120_000,
    handler: async (_job, { signal }) => {
      try {
        const summary = await checkFleet(cycleDeps, signal);
        log.debug(summary, 'health cycle');
      } finally {
        await schedule();
      }
    },
  });
  engine.defineTask({ queue: healthQueue, type: 'pod.health.kick', handler: schedule });
  engine.defineSchedule({ name: 'pod.health.kick', queue: healthQueue, type: 'pod.health.kick', cadence: { everyMs: 60_000 } });
  return { checkFleet: (signal = new AbortController().signal) => checkFleet(cycleDeps, signal), schedule };
}
