import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { hookGate } from '../../src/hooks/gate.ts';
import type { PodRow } from '../../src/pods/store.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import type { RunContext } from '../../src/runtime/kit.ts';
import { allocationsOfPod } from '../../src/tenancy/ip-pools.ts';
import type { Template } from '../../src/tenancy/templates.ts';
import type { PodAllocations } from './vm.ts';
import { podVolumesGone } from '../../src/volumes/pod-volumes.ts';
import type { BlockingEvent } from '../../src/hooks/config.ts';
import type { HookGate } from '../../src/hooks/gate.ts';
import { settledAtGeneration } from './status.ts';
import { planConfigWrite, type DesiredConfig } from '../../src/proxmox/encoding/config-write.ts';
import { NotFoundError } from '../../src/proxmox/errors.ts';
import { taskOutcome } from '../../src/proxmox/task-outcome.ts';
import type { ClusterView } from './cluster-view.ts';
import { bootDisk, diskSizeGiB } from '../../src/proxmox/vm-disks.ts';
import { ownedBy } from '../../src/proxmox/vm-ownership.ts';
import type { TaskFacts, VmFacts } from './plan.ts';

/** What the task recorded in a pod's row has come to, with the failures the pod controller tells apart. */
export async function observeTask(proxmox: ProxmoxClient, upid: string): Promise<TaskFacts> {
  const task = await taskOutcome(proxmox, upid);
  if (task.state !== 'failed') return task;
  return {
    ...task,
    missingSource: /does not exist|no such/i.test(task.message) && task.type === 'qmclone',
    vmidTaken: /already exists/i.test(task.message),
  };
}

export interface LoadedPod {
  row: PodRow;
  template: Template;
  tenantSuspended: boolean;
}

export interface PodObservation {
  task: TaskFacts | null;
  /** The VM at the pod's VMID; undefined when the pod is not placed or a task is recorded. */
  vm: VmObservation | undefined;
  hasAddress: boolean;
  volumesRemaining: boolean;
  /** Read only before provisioning or tearing down. */
  hooks: (HookGate & { event: BlockingEvent }) | null;
}

export interface VmObservation {
  facts: VmFacts;
  /** Where the VM is now (it may have moved); null when absent. */
  node: string | null;
  /** The configuration read, when it was: for the MAC and for checking ownership again. */
  config?: Record<string, string | number>;
}

export interface ObserveVmInput {
  podId: string;
  vmid: number;
  node: string;
  /** Read status and configuration directly (provisioning, spec changes, before destructive steps). */
  direct: boolean;
  /** The configuration the pod asks for, to compute the write; only needed when reading directly. */
  desired?: () => Promise<DesiredConfig>;
}

/**
 * The VM at the pod's VMID. In steady state, one shared cluster snapshot answers (ownership from the owner tag);
 * otherwise status and configuration are read from the VM's node, and ownership also from the clone's
 * description marker, since a fresh clone has no tags yet.
 */
export async function observeVm(proxmox: ProxmoxClient, cluster: ClusterView, input: ObserveVmInput): Promise<VmObservation> {
  const snapshot = await cluster.snapshot();
  const seen = snapshot.vms.get(input.vmid);
  if (!input.direct && seen && ownedBy(input.podId, { tags: seen.tags })) {
    const status = seen.status === 'running' ? 'running' : 'stopped';
    return { facts: { state: 'owned', status, lock: seen.lock || undefined }, node: seen.node ?? input.node };
  }
  const node = seen?.node ?? input.node;
  let config: Record<string, string | number> & { digest: string };
  try {
    config = await proxmox.getConfig(node, input.vmid);
  } catch (error) {
    if (error instanceof NotFoundError) {
      cluster.invalidate();
      return { facts: { state: 'absent' }, node: null };
    }
    throw error;
  }
  const evidence = { tags: stringOf(config.tags), description: stringOf(config.description) };
  if (!ownedBy(input.podId, evidence)) return { facts: { state: 'foreign' }, node };
  const status = await proxmox.currentStatus(node, input.vmid);
  const lock = stringOf(config.lock) ?? status.lock;
  const disk = bootDisk(config);
  const diskValue = disk ? stringOf(config[disk]) : undefined;
  const facts: VmFacts = {
    state: 'owned', status: status.status, lock: lock || undefined,
    ...(input.desired && !lock ? { config: {
      write: planConfigWrite(config, await input.desired()),
      disk, diskGiB: diskValue ? diskSizeGiB(diskValue) : undefined, digest: config.digest,
    } } : {}),
  };
  return { facts, node, config };
}

function stringOf(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

export interface ObservePodDeps {
  db: Kysely<Database>;
  proxmox: ProxmoxClient;
  cluster: ClusterView;
  taskPollMs: number;
  /** How long one run may wait for a task it started before handing the pod back to the queue. */
  waitBudgetMs: number;
  desired: (pod: PodRow, template: Template, allocations: PodAllocations) => Promise<DesiredConfig>;
}

/**
 * Reads only: the recorded task (waited for within the run's budget, after the progress so far is written), the VM,
 * whether the pod has its address, on deletion whether its volumes are gone, and before provisioning or tearing
 * down what the blocking hooks say. A settled generation's VM is seen in the shared cluster snapshot.
 */
export async function observePod(deps: ObservePodDeps, { row: pod, template }: LoadedPod, run: RunContext)
  : Promise<PodObservation> {
  const deleting = pod.deletion_requested_at !== null;
  const task = pod.task_upid ? await waitedTask(deps, pod.task_upid, run) : null;
  const placed = pod.vmid !== null && pod.node !== null;
  // A recorded task is all the next step is about; an unplaced pod has nothing in Proxmox yet.
  if (task) return { task, vm: undefined, hasAddress: false, volumesRemaining: false, hooks: null };
  const allocations = placed && !deleting ? await allocationsOfPod(deps.db, pod.id) : [];
  const vm = placed
    ? await observeVm(deps.proxmox, deps.cluster, {
      podId: pod.id, vmid: pod.vmid!, node: pod.node!, direct: deleting || !settledAtGeneration(pod),
      desired: () => deps.desired(pod, template, allocations),
    })
    : undefined;
  // Blocking hooks are asked before placing (a placed pod passed its pre_create gate) and before any teardown.
  const event = deleting ? 'pod.pre_destroy' as const : 'pod.pre_create' as const;
  const needsGate = deleting || !placed;
  return {
    task, vm,
    hasAddress: allocations.some((a) => a.family === 4),
    volumesRemaining: deleting && !(await podVolumesGone(deps.db, pod.id)),
    hooks: needsGate ? { event, ...await hookGate(deps.db, { id: pod.id, tenantId: pod.tenant_id }, event) } : null,
  };
}

/** A running task is waited for in-process within the run's budget: one run instead of a poll job every moment. */
async function waitedTask(deps: ObservePodDeps, upid: string, run: RunContext): Promise<TaskFacts> {
  const task = await observeTask(deps.proxmox, upid);
  const left = deps.waitBudgetMs - (Date.now() - run.startedAt);
  if (task.state !== 'running' || left <= 0 || run.signal.aborted) return task;
  await run.flush();
  try {
    await deps.proxmox.waitForTask(upid, { pollIntervalMs: deps.taskPollMs, timeoutMs: left, signal: run.signal });
  } catch {
    // Failed, still running after the budget, or aborted: the task's status tells which.
  }
  return observeTask(deps.proxmox, upid);
}
