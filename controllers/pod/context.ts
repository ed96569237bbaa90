import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { JobEngine } from '../../src/jobs/engine.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import type { CloudPodQuotasService } from '../../src/tenancy/quotas.ts';
import type { ClusterView } from './cluster-view.ts';

export interface PodControllerOptions {
  db: Kysely<Database>;
  engine: JobEngine;
  proxmox: ProxmoxClient;
  cluster: ClusterView;
  /** The tenants' limits: an address is allocated only within the IPv4 quota. */
  quotas: CloudPodQuotasService;
  logger: Logger;
  vmids: { min: number; max: number };
  clonesPerNode: number;
  /** How soon to look again at a running task. */
  taskPollMs: number;
  /** Whether the DNS controller runs: then pods with a hostname get records, and deletion waits for them to go. */
  dns: boolean;
}

/** What every part of the pod controller works with. */
export type PodContext = PodControllerOptions & { log: Logger };
