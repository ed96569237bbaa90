import { AppError, type RefusalReason } from '../errors.ts';
import type { ClusterFacts, ClusterLookup } from './cluster-lookup.ts';
import type { ClusterResource } from './types.ts';

/**
 * Order-time checks of names that must exist in the Proxmox cluster. The decisions are pure (facts in, problem
 * out); the asserts read the cached cluster and accept when it is unknown (no Proxmox configured, or it does not
 * answer): the controllers still report what does not exist (NodeUnavailable, StorageUnavailable, TemplateInvalid).
 */

/** Why an order was refused, for front doors that show a machine reason (the Kubernetes bridge's Ready reason). */
export type ClusterRefusalReason = Extract<RefusalReason, 'NodeNotFound' | 'StorageNotFound' | 'StorageNotForDisks'
  | 'TemplateVmNotFound' | 'NotATemplate'>;

/**
 * A field names something the cluster does not have: 422 `validation_error` naming the field, with the reason (also
 * in the answer's details, where REST clients read it).
 */
export class ClusterRefusal extends AppError {
  constructor(field: string, reason: ClusterRefusalReason, message: string) {
    super(422, 'validation_error', `${field}: ${message}`, { fields: [{ name: field, messages: [message] }], reason },
      reason);
  }
}

export interface ClusterProblem<Reason extends ClusterRefusalReason = ClusterRefusalReason> {
  reason: Reason;
  message: string;
}

const listed = (names: Iterable<string | undefined>) =>
  [...new Set([...names].filter((n): n is string => n !== undefined))].sort().join(', ') || 'none';

export function nodeProblem(facts: ClusterFacts, node: string): string | undefined {
  if (facts.nodes.some((n) => n.node === node)) return undefined;
  return `no node ${node} in the Proxmox cluster (it has ${listed(facts.nodes.map((n) => n.node))})`;
}

/** A storage Proxmox may allocate VM disks on; one whose content is not listed is given the benefit of the doubt. */
const holdsDisks = (s: ClusterResource) => s.content === undefined || s.content.split(',').includes('images');

/**
 * The storage must exist, and hold VM disks, on one of `nodes` (a pod's node; a template VM's node or its default
 * node); with none known yet (a pod not placed), on some node.
 */
export function storageProblem(facts: ClusterFacts, storage: string, nodes: readonly string[] | null)
  : ClusterProblem<'StorageNotFound' | 'StorageNotForDisks'> | undefined {
  const on = nodes === null || nodes.length === 0 ? null : [...new Set(nodes)];
  const candidates = on === null ? facts.storages : facts.storages.filter((s) => on.includes(s.node!));
  const where = on === null ? 'in the Proxmox cluster' : `on node ${on.join(' or ')}`;
  const named = candidates.filter((s) => s.storage === storage);
  if (named.length === 0) {
    return { reason: 'StorageNotFound',
      message: `no storage ${storage} ${where} (${on && on.length > 1 ? 'they have' : 'it has'} ` +
        `${listed(candidates.map((s) => s.storage))})` };
  }
  if (named.some(holdsDisks)) return undefined;
  return { reason: 'StorageNotForDisks', message: `storage ${storage} ${where} does not hold VM disks (its content: ` +
    `${listed(named.flatMap((s) => s.content!.split(',').filter(Boolean)))}; storages for VM disks: ` +
    `${listed(candidates.filter(holdsDisks).map((s) => s.storage))})` };
}

export function templateVmProblem(facts: ClusterFacts, vmid: number)
  : ClusterProblem<'TemplateVmNotFound' | 'NotATemplate'> | undefined {
  const vm = facts.vms.get(vmid);
  if (!vm) return { reason: 'TemplateVmNotFound', message: `no VM ${vmid} in the Proxmox cluster` };
  if (Number(vm.template) !== 1) {
    return { reason: 'NotATemplate', message: `VM ${vmid}${vm.name ? ` (${vm.name})` : ''} on ${vm.node} is not a template` };
  }
  return undefined;
}

/** What a template names in the cluster. */
export interface TemplateInCluster {
  proxmox_template_vmid: number;
  default_node: string | null;
  storage_pool: string;
}

const touchesCluster = (changes: Partial<TemplateInCluster>) => changes.proxmox_template_vmid !== undefined
  || changes.default_node !== undefined || changes.storage_pool !== undefined;

/**
 * The first field of a template write that names what the cluster lacks: a changed VMID must be a template VM, a
 * default node a node, and the storage (checked again when any of the three changes) must hold VM disks on the
 * template VM's node or on the default node, where its pods are cloned.
 */
export function templateProblem(facts: ClusterFacts, template: TemplateInCluster, changes: Partial<TemplateInCluster>)
  : (ClusterProblem & { field: keyof TemplateInCluster }) | undefined {
  const vmid = changes.proxmox_template_vmid !== undefined && templateVmProblem(facts, template.proxmox_template_vmid);
  if (vmid) return { field: 'proxmox_template_vmid', ...vmid };
  const node = typeof changes.default_node === 'string' && nodeProblem(facts, changes.default_node);
  if (node) return { field: 'default_node', reason: 'NodeNotFound', message: node };
  if (!touchesCluster(changes)) return undefined;
  const nodes = [facts.vms.get(template.proxmox_template_vmid)?.node, template.default_node]
    .filter((n): n is string => typeof n === 'string');
  const storage = storageProblem(facts, template.storage_pool, nodes);
  return storage && { field: 'storage_pool', ...storage };
}

type Lookup = ClusterLookup | null;

/** Refuses a requested node the cluster does not have (field `node`). */
export async function assertNodeExists(cluster: Lookup, node: string): Promise<void> {
  const facts = await cluster?.facts();
  const problem = facts && nodeProblem(facts, node);
  if (problem) throw new ClusterRefusal('node', 'NodeNotFound', problem);
}

/**
 * Refuses a volume's storage that the pod's node (or, unplaced, the cluster) does not have or that holds no VM
 * disks there (field `storage_pool`).
 */
export async function assertDiskStorage(cluster: Lookup, storage: string, node: string | null): Promise<void> {
  const facts = await cluster?.facts();
  const problem = facts && storageProblem(facts, storage, node === null ? null : [node]);
  if (problem) throw new ClusterRefusal('storage_pool', problem.reason, problem.message);
}

/**
 * Refuses a template write naming what the cluster lacks (see `templateProblem`), read fresh: a VM converted to
 * a template seconds ago must count. `changes` are the fields written; `template` the template after the write.
 */
export async function assertTemplateInCluster(cluster: Lookup, template: TemplateInCluster,
  changes: Partial<TemplateInCluster>): Promise<void> {
  const facts = touchesCluster(changes) ? await cluster?.facts({ fresh: true }) : undefined;
  const problem = facts && templateProblem(facts, template, changes);
  if (problem) throw new ClusterRefusal(problem.field, problem.reason, problem.message);
}
