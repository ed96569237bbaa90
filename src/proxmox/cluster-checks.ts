import { AppError } from '../errors.ts';
import type { ClusterFacts, ClusterLookup } from './cluster-lookup.ts';

/**
 * Order-time checks of names that must exist in the Proxmox cluster. The decisions are pure (facts in, problem
 * out); the asserts read the cached cluster and accept when it is unknown (no Proxmox configured, or it does not
 * answer): the controllers still report what does not exist (NodeUnavailable, StorageUnavailable, TemplateInvalid).
 */

/** Why an order was refused, for front doors that show a machine reason (the Kubernetes bridge's Ready reason). */
export type ClusterRefusalReason = 'NodeNotFound' | 'StorageNotFound' | 'TemplateVmNotFound' | 'NotATemplate';

/** A field names something the cluster does not have: 422 `validation_error` naming the field, with the reason. */
export class ClusterRefusal extends AppError {
  constructor(field: string, reason: ClusterRefusalReason, message: string) {
    super(422, 'validation_error', `${field}: ${message}`, { fields: [{ name: field, messages: [message] }], reason });
  }
}

const listed = (names: Iterable<string | undefined>) =>
  [...new Set([...names].filter((n): n is string => n !== undefined))].sort().join(', ') || 'none';

export function nodeProblem(facts: ClusterFacts, node: string): string | undefined {
  if (facts.nodes.some((n) => n.node === node)) return undefined;
  return `no node ${node} in the Proxmox cluster (it has ${listed(facts.nodes.map((n) => n.node))})`;
}

/** The storage must exist on the pod's node; before the pod is placed, on some node. */
export function storageProblem(facts: ClusterFacts, storage: string, node: string | null): string | undefined {
  const candidates = node === null ? facts.storages : facts.storages.filter((s) => s.node === node);
  if (candidates.some((s) => s.storage === storage)) return undefined;
  return `no storage ${storage} ${node === null ? 'in the Proxmox cluster' : `on node ${node}`} ` +
    `(it has ${listed(candidates.map((s) => s.storage))})`;
}

export function templateVmProblem(facts: ClusterFacts, vmid: number)
  : { reason: 'TemplateVmNotFound' | 'NotATemplate'; message: string } | undefined {
  const vm = facts.vms.get(vmid);
  if (!vm) return { reason: 'TemplateVmNotFound', message: `no VM ${vmid} in the Proxmox cluster` };
  if (Number(vm.template) !== 1) {
    return { reason: 'NotATemplate', message: `VM ${vmid}${vm.name ? ` (${vm.name})` : ''} on ${vm.node} is not a template` };
  }
  return undefined;
}

type Lookup = ClusterLookup | null;

/** Refuses a requested node the cluster does not have (field `node`). */
export async function assertNodeExists(cluster: Lookup, node: string): Promise<void> {
  const facts = await cluster?.facts();
  const problem = facts && nodeProblem(facts, node);
  if (problem) throw new ClusterRefusal('node', 'NodeNotFound', problem);
}

/** Refuses a volume's storage the pod's node (or, unplaced, the cluster) does not have (field `storage_pool`). */
export async function assertStorageExists(cluster: Lookup, storage: string, node: string | null): Promise<void> {
  const facts = await cluster?.facts();
  const problem = facts && storageProblem(facts, storage, node);
  if (problem) throw new ClusterRefusal('storage_pool', 'StorageNotFound', problem);
}

/** Refuses a template VMID that is no VM, or no template, of the cluster, read fresh (field `proxmox_template_vmid`). */
export async function assertTemplateVm(cluster: Lookup, vmid: number): Promise<void> {
  const facts = await cluster?.facts({ fresh: true });
  const problem = facts && templateVmProblem(facts, vmid);
  if (problem) throw new ClusterRefusal('proxmox_template_vmid', problem.reason, problem.message);
}
