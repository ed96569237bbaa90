import type { Kysely } from 'kysely';
import type { Condition, Database, PowerState } from '../../src/db/schema.ts';
import type { ClusterResource } from '../../src/proxmox/types.ts';
import { ownedBy } from '../../src/proxmox/vm-ownership.ts';
import type { ClusterView } from './cluster-view.ts';
import { settledAtGeneration } from './status.ts';

/** What the resync needs of a pod: enough to tell a settled pod whose VM still matches it. */
export interface ResyncPod {
  id: string;
  generation: number;
  conditions: Condition[];
  task_upid: string | null;
  deletion_requested_at: Date | null;
  vmid: number | null;
  node: string | null;
  power_state: PowerState;
}

/**
 * Pure: whether a pod must be looked at by its own reconcile. A settled pod (Ready for its generation, no task, not
 * being deleted) is left alone while the cluster snapshot shows its VM where it was, ours, unlocked and in the
 * power state asked for; anything else (drift, a VM gone or moved, a pod still working) is looked at. A settled
 * pod's VM stopped by someone else is not: the pod ran for this generation, and health (not a restart) handles it.
 */
export function needsLook(pod: ResyncPod, vm: ClusterResource | undefined): boolean {
  if (!settledAtGeneration(pod) || pod.task_upid !== null || pod.deletion_requested_at !== null) return true;
  if (pod.vmid === null || !vm || !ownedBy(pod.id, { tags: vm.tags })) return true;
  if (vm.node !== pod.node || vm.lock) return true;
  return pod.power_state === 'stopped' && vm.status === 'running';
}

/**
 * The pods the periodic resync enqueues: observed in bulk (one query, one shared cluster snapshot), so a fleet of
 * settled pods costs no reconcile, and no SQL or Proxmox call, each.
 */
export async function podsToLookAt(db: Kysely<Database>, cluster: ClusterView): Promise<string[]> {
  const [pods, snapshot] = await Promise.all([
    db.selectFrom('cloud_pods').select(['id', 'generation', 'conditions', 'task_upid', 'deletion_requested_at', 'vmid',
      'node', 'power_state']).execute(),
    cluster.snapshot(),
  ]);
  return pods.filter((pod) => needsLook(pod, pod.vmid === null ? undefined : snapshot.vms.get(pod.vmid))).map((p) => p.id);
}
