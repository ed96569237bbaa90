import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Database } from '../../src/db/schema.ts';
import type { JobEngine } from '../../src/jobs/engine.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { allPodIds } from '../../src/pods/store.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import type { CloudPodQuotasService } from '../../src/tenancy/quotas.ts';
import { registerReconciler } from '../../src/runtime/controller.ts';
import { ClusterView } from './cluster-view.ts';
import { createPodReconciler } from './reconcile.ts';

export interface PodControllerSettings {
  vmids: { min: number; max: number };
  clonesPerNode: number;
  taskPollMs: number;
  resyncEveryMs?: number;
  /** The DNS controller runs in this system (PowerDNS configured). */
  dns: boolean;
}

/** Registers the pod controller on the job engine (`pod.reconcile`, and `pod.resync` every minute by default). */
export function registerPodController(deps: { engine: JobEngine; db: Kysely<Database>; logger: Logger; registry?: Registry;
  proxmox: ProxmoxClient; quotas: CloudPodQuotasService }, settings: PodControllerSettings): ClusterView {
  const cluster = new ClusterView(deps.proxmox);
  registerReconciler(deps, {
    kind: 'pod',
    resyncEveryMs: settings.resyncEveryMs ?? 60_000,
    listIds: allPodIds,
    timeoutMs: 120_000,
    reconcile: createPodReconciler({ db: deps.db, engine: deps.engine, proxmox: deps.proxmox, cluster,
      quotas: deps.quotas, logger: deps.logger, vmids: settings.vmids, clonesPerNode: settings.clonesPerNode,
      taskPollMs: settings.taskPollMs, dns: settings.dns }),
  });
  return cluster;
}
