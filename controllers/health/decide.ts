import type { Condition, HealthStatus, PowerState } from '../../src/db/schema.ts';
import type { ClusterResource } from '../../src/proxmox/types.ts';
import { ownedBy } from '../../src/proxmox/vm-ownership.ts';
import { ranAtGeneration } from '../pod/status.ts';
import { healthReasons } from './reasons.ts';

/**
 * The health controller's pure decisions: whether a pod is checked at all, what one check says, and the pod's
 * health record after it (consecutive failures counted here, in one place).
 */

/** What a check needs of a pod row. */
export interface HealthPod {
  id: string;
  generation: number;
  conditions: Condition[];
  task_upid: string | null;
  deletion_requested_at: Date | null;
  power_state: PowerState;
  vmid: number | null;
  node: string | null;
  health_status: HealthStatus | null;
  health_reason: string | null;
  health_message: string | null;
  health_failures: number;
}

/** Why a pod is not checked now, or null when it is. */
export function notCheckedBecause(pod: HealthPod): string | null {
  if (pod.deletion_requested_at !== null) return 'the pod is being deleted';
  if (pod.power_state !== 'running') return 'the pod is desired stopped';
  if (pod.task_upid !== null) return 'a task of the pod is in flight';
  // Being created or changed: the pod controller has not converged this generation yet (a pod auto-heal gave up on
  // did converge it, and is still watched).
  if (pod.vmid === null || !ranAtGeneration(pod)) return 'the pod controller is converging its spec';
  return null;
}

/** What the cycle saw of one pod beyond the cluster snapshot. */
export interface PodProbes {
  /** The guest agent: answered, did not (or not within the timeout), or was not asked (no agent, VM not running). */
  agent: 'answered' | 'silent' | 'not-asked';
  /** The QMP status, read only when the agent was silent (a paused VM looks running in the snapshot). */
  qmpstatus?: string;
  /** The tenant's probe, when it has one and a runner is given (src/health/probe.ts). */
  probe?: { ok: boolean; message: string };
}

export interface Verdict {
  status: HealthStatus;
  reason: string;
  message: string;
}

/** Pure: one check's verdict from the snapshot's VM and node, and the probes. */
export function judge(pod: HealthPod, vm: ClusterResource | undefined, nodeOnline: boolean, probes: PodProbes): Verdict {
  if (!nodeOnline) return { status: 'False', reason: healthReasons.nodeOffline, message: `node ${pod.node} is offline` };
  if (!vm || !ownedBy(pod.id, { tags: vm.tags })) {
    return { status: 'False', reason: healthReasons.vmNotFound, message: `VM ${pod.vmid} of the pod is not in the cluster` };
  }
  if (vm.lock) return { status: 'Unknown', reason: healthReasons.locked, message: `VM ${pod.vmid} is locked (${vm.lock})` };
  if (vm.status !== 'running') {
    return { status: 'False', reason: healthReasons.vmStopped, message: `VM ${pod.vmid} is ${vm.status}, the pod is desired running` };
  }
  if (probes.qmpstatus === 'paused') return { status: 'False', reason: healthReasons.vmPaused, message: `VM ${pod.vmid} is paused` };
  if (probes.agent === 'silent') {
    return { status: 'False', reason: healthReasons.guestAgentUnresponsive, message: 'the guest agent did not answer a ping' };
  }
  if (probes.probe && !probes.probe.ok) return { status: 'False', reason: healthReasons.probeFailed, message: probes.probe.message };
  return { status: 'True', reason: healthReasons.healthy, message: `VM ${pod.vmid} running on ${pod.node}` };
}

/** A pod's health record as written by a cycle. */
export interface HealthRecord {
  status: HealthStatus;
  reason: string;
  message: string;
  failures: number;
  /** The status differs from the row's: its transition time moves. */
  transitioned: boolean;
}

/**
 * Pure: the record after a verdict. A failure adds one to the count, a success clears it; Unknown (a lock, no
 * answer from Proxmox) keeps it; a pod not checked starts a new count.
 */
export function nextRecord(pod: HealthPod, verdict: Verdict, checked: boolean): HealthRecord {
  const failures = !checked || verdict.status === 'True' ? 0
    : verdict.status === 'False' ? pod.health_failures + 1 : pod.health_failures;
  return { ...verdict, failures, transitioned: verdict.status !== pod.health_status };
}

/** Whether the record differs from the row's: a pod not checked whose record stands is not written every cycle. */
export function recordChanged(pod: HealthPod, record: HealthRecord): boolean {
  return record.status !== pod.health_status || record.reason !== pod.health_reason
    || record.message !== pod.health_message || record.failures !== pod.health_failures;
}
