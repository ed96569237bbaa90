import { sql, type Kysely } from 'kysely';
import type { Database, PodRow } from '../../src/db/schema.ts';
import type { Template } from '../../src/tenancy/templates.ts';
import { publishLifecycleEvent } from '../../src/hooks/events.ts';
import { podKind } from '../../src/pods/kind.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { LockedError, ProxmoxError } from '../../src/proxmox/errors.ts';
import { isTrue } from '../../src/runtime/conditions.ts';
import { registerController, type ControllerDefinition, type KitDeps } from '../../src/runtime/kit.ts';
import type { CloudPodQuotasService } from '../../src/tenancy/quotas.ts';
import { volumeKind } from '../../src/volumes/kind.ts';
import { actOnPod } from './act.ts';
import { ClusterView } from './cluster-view.ts';
import type { PodContext } from './context.ts';
import { decidePod, type PodAction, type PodDecideSettings, type PodOutcome } from './decide.ts';
import { observePod, type LoadedPod, type PodObservation } from './observe.ts';
import { podsToLookAt } from './resync.ts';
import { conditionTypes, reasons } from './reasons.ts';
import { desiredConfigOf, type PodAllocations } from './vm.ts';

/**
 * The pod, its template and whether its tenant is suspended, in one statement: a run loads again after every step.
 * (The template comes as JSON: its timestamps are strings there, and nothing here reads them.)
 */
async function loadPod(db: Kysely<Database>, id: string): Promise<LoadedPod | undefined> {
  const found = await db.selectFrom('cloud_pods as p').innerJoin('cloud_pod_templates as t', 't.id', 'p.template_id')
    .innerJoin('tenants as tn', 'tn.id', 'p.tenant_id').selectAll('p')
    .select([sql<Template>`to_jsonb(t.*)`.as('template'), 'tn.status as tenant_status'])
    .where('p.id', '=', id).executeTakeFirst();
  if (!found) return undefined;
  const { template, tenant_status: tenantStatus, ...row } = found;
  return { row, template, tenantSuspended: tenantStatus === 'suspended' };
}

export interface PodControllerSettings {
  vmids: { min: number; max: number };
  clonesPerNode: number;
  taskPollMs: number;
  resyncEveryMs?: number;
  /** The DNS controller runs in this system (PowerDNS configured). */
  dns: boolean;
}

export interface PodControllerDeps extends KitDeps {
  proxmox: ProxmoxClient;
  quotas: CloudPodQuotasService;
}

/**
 * A reconcile waits for the task it started, or for the guest agent, up to this long before handing the pod back
 * to the queue: one run instead of a poll job every few hundred milliseconds.
 */
const waitBudgetMs = 30_000;

/**
 * Registers the pod controller (`pod.reconcile` on the `cloudpods` queue, and `pod.resync` every minute by default);
 * returns the cluster view its reconciles share, which orders read too. Register before `engine.start()`.
 */
export function registerPodController(deps: PodControllerDeps, settings: PodControllerSettings): ClusterView {
  const cluster = new ClusterView(deps.proxmox);
  registerController(deps, podController(deps, cluster, settings));
  return cluster;
}

/**
 * The pod controller: converges each pod to its spec on Proxmox (place, clone, configure, resize, power, addresses,
 * DNS names), and on deletion tears it down after its blocking hooks, volumes first.
 */
export function podController(deps: PodControllerDeps, cluster: ClusterView, settings: PodControllerSettings)
  : ControllerDefinition<PodRow, LoadedPod, PodObservation, PodAction, PodOutcome> {
  const { db } = deps;
  const ctx: PodContext = { db, engine: deps.engine, proxmox: deps.proxmox, cluster, quotas: deps.quotas,
    logger: deps.logger, log: deps.logger, vmids: settings.vmids, clonesPerNode: settings.clonesPerNode,
    taskPollMs: settings.taskPollMs, dns: settings.dns };
  const decideSettings: PodDecideSettings = { clonesPerNode: settings.clonesPerNode, dns: settings.dns,
    taskPollMs: settings.taskPollMs, agentPollMs: 2_000, capacityRetryMs: 30_000, cloneQueueRecheckMs: 5_000,
    hookPollMs: 1_000, hookRecheckMs: 30_000 };
  const observeDeps = { db, proxmox: deps.proxmox, cluster, taskPollMs: settings.taskPollMs, waitBudgetMs,
    desired: (pod: PodRow, template: LoadedPod['template'], allocations: PodAllocations) =>
      desiredConfigOf(ctx, pod, template, allocations) };
  const actSettings = { lockRetryMs: 100, agentPollMs: decideSettings.agentPollMs, waitBudgetMs };
  return {
    kind: podKind,
    table: 'cloud_pods',
    load: (id) => loadPod(db, id),
    observe: (loaded, run) => observePod(observeDeps, loaded, run),
    decide: (loaded, seen, outcome) => decidePod(loaded, seen, outcome, decideSettings),
    act: (action, loaded, seen, run) => actOnPod({ ...ctx, log: run.log }, actSettings, action, loaded, seen, run),
    failure: (error) => error instanceof ProxmoxError && error.retryable ? { type: conditionTypes.ready, status: 'False',
      reason: error instanceof LockedError ? reasons.locked : reasons.proxmoxUnavailable, message: error.message } : null,
    audit: { category: 'lifecycle', podId: (pod) => pod.id, details: (pod) => ({ vmid: pod.vmid, node: pod.node }) },
    // The first `active` publishes pod.post_create and wakes the volumes ordered while the pod was provisioning.
    onPhaseChange: async (trx, pod, next) => {
      if (next.status !== 'active' || isTrue(pod.conditions, conditionTypes.provisioned)) return;
      const volumes = await trx.selectFrom('cloud_pod_volumes').select('id').where('pod_id', '=', pod.id).execute();
      await volumeKind.enqueue(deps.engine, trx, volumes.map((v) => v.id));
      await publishLifecycleEvent(trx, deps.engine, { event: 'pod.post_create', podId: pod.id, tenantId: pod.tenant_id,
        data: { name: pod.name, vmid: pod.vmid, node: pod.node, ip_addresses: pod.ip_addresses } });
    },
    resyncIds: (db) => podsToLookAt(db, cluster),
    resyncEveryMs: settings.resyncEveryMs ?? 60_000,
    maxSteps: 24,
    timeoutMs: 120_000,
  };
}
