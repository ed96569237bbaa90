import type { BlockingEvent } from '../../src/hooks/config.ts';
import type { HookGate } from '../../src/hooks/gate.ts';
import type { ConfigWrite } from '../../src/proxmox/encoding/config-write.ts';
import { isEmptyWrite } from '../../src/proxmox/encoding/config-write.ts';

/**
 * The pod controller's choice of step: from what the pod asks for and what Proxmox shows, the one next step. Pure,
 * so every branch is a row in a table test; `decide.ts` says what a client sees of it. (A generation stopped on a
 * terminal reason is never planned again: the controller kit waits for a new spec.)
 */

export interface PodFacts {
  deleting: boolean;
  vmid: number | null;
  node: string | null;
  /** A task recorded in the row, and what it was. */
  task: TaskFacts | null;
  hasAddress: boolean;
  desiredPower: 'running' | 'stopped';
  rebootWanted: boolean;
  ipsKnown: boolean;
  /** The spec's generation was already converged once: configuration need not be read again (steady state). */
  specObserved: boolean;
  /**
   * The VM ran for this very generation (Ready=True, Active): if it is stopped now, someone else stopped it, which is
   * the health controller's to see and auto-heal's to repair, not a silent restart here.
   */
  ranAtGeneration: boolean;
  /** Volume rows of the pod that still exist: on deletion, they are destroyed before the VM. */
  volumesRemaining: boolean;
  /**
   * What the blocking hooks of `event` say (src/hooks/gate.ts): read only before provisioning or tearing down, so
   * steady state costs no query. null: not read.
   */
  hooks: (HookGate & { event: BlockingEvent }) | null;
}

export type TaskFacts =
  | { state: 'running'; type: string }
  | { state: 'ok'; type: string }
  | { state: 'failed'; type: string; message: string; missingSource: boolean; vmidTaken: boolean };

export type VmFacts =
  | { state: 'absent' }
  | { state: 'foreign' }
  | {
    state: 'owned';
    status: 'running' | 'stopped';
    lock: string | undefined;
    /** Present once the configuration has been read (provisioning or a spec change). */
    config?: { write: ConfigWrite; disk: string | undefined; diskGiB: number | undefined; digest: string };
  };

export interface DesiredSize {
  diskGiB: number;
}

export type PodStep =
  | { kind: 'wait-task'; type: string }
  | { kind: 'wait-lock'; lock: string }
  | { kind: 'task-done' }
  | { kind: 'task-failed'; retry: 'same' | 'new-vmid' | 'terminal'; reason: string; message: string }
  | { kind: 'place' }
  | { kind: 'clone' }
  | { kind: 'new-vmid'; reason: string }
  | { kind: 'allocate-address' }
  | { kind: 'read-config' }
  | { kind: 'configure' }
  | { kind: 'resize'; disk: string }
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'reboot' }
  | { kind: 'read-ips' }
  | { kind: 'settled' }
  /** Desired running, ran for this generation, stopped by someone else: left to health (nothing written). */
  | { kind: 'stopped-out-of-band' }
  | { kind: 'destroy' }
  | { kind: 'remove-volumes' }
  | { kind: 'finish-delete' }
  /** The gate of the event's blocking hooks was not read: observing must read it first (never a step to act on). */
  | { kind: 'check-hooks'; event: BlockingEvent }
  /** `soon`: the fan-out or a delivery is under way, look again shortly; else a delivery's end wakes the pod. */
  | { kind: 'wait-for-hooks'; event: BlockingEvent; hooks: string[]; soon: boolean }
  | { kind: 'hook-failed'; event: BlockingEvent; hook: string; error: string; jobId: number };

/**
 * Before the steps that provision (`pod.pre_create`) or tear down (`pod.pre_destroy`): the event's blocking hooks
 * must have been delivered. null when nothing holds the pod.
 */
function heldByHooks(pod: PodFacts, event: BlockingEvent): PodStep | null {
  const gate = pod.hooks;
  if (gate === null || gate.event !== event) return { kind: 'check-hooks', event };
  if (gate.state === 'pending') return { kind: 'wait-for-hooks', event, hooks: gate.hooks, soon: gate.inFlight };
  if (gate.state === 'failed') return { kind: 'hook-failed', event, hook: gate.hook, error: gate.error, jobId: gate.jobId };
  return null;
}

export function planPodStep(pod: PodFacts, vm: VmFacts, size: DesiredSize): PodStep {
  if (pod.task?.state === 'running') return { kind: 'wait-task', type: pod.task.type };
  if (pod.task?.state === 'ok') return { kind: 'task-done' };
  if (pod.task?.state === 'failed') {
    const { type, message } = pod.task;
    if (type === 'qmclone' && pod.task.missingSource) {
      return { kind: 'task-failed', retry: 'terminal', reason: 'TemplateInvalid', message };
    }
    if (type === 'qmclone' && pod.task.vmidTaken) return { kind: 'task-failed', retry: 'new-vmid', reason: 'VmidTaken', message };
    return { kind: 'task-failed', retry: 'same', reason: 'TaskFailed', message: `${type}: ${message}` };
  }

  if (pod.deleting) {
    // Nothing is torn down, volumes included, before the blocking pod.pre_destroy hooks have been delivered.
    const held = heldByHooks(pod, 'pod.pre_destroy');
    if (held) return held;
    if (pod.volumesRemaining) return { kind: 'remove-volumes' };
    if (vm.state !== 'owned') return { kind: 'finish-delete' };
    if (vm.lock) return { kind: 'wait-lock', lock: vm.lock };
    return vm.status === 'running' ? { kind: 'stop' } : { kind: 'destroy' };
  }

  // Nothing is provisioned before the blocking pod.pre_create hooks have been delivered.
  if (pod.vmid === null || pod.node === null) return heldByHooks(pod, 'pod.pre_create') ?? { kind: 'place' };
  if (vm.state === 'foreign') return { kind: 'new-vmid', reason: `VMID ${pod.vmid} belongs to a VM that is not this pod's` };
  // Placing passed the pod.pre_create gate, and a delivered gate stays clear: the clone need not ask again.
  if (vm.state === 'absent') return { kind: 'clone' };
  if (vm.lock) return { kind: 'wait-lock', lock: vm.lock };
  // Ours, unlocked, yet without a boot disk: a clone that broke half way. Destroy it and clone again.
  if (vm.config && vm.config.disk === undefined) return { kind: 'destroy' };
  if (!pod.hasAddress) return { kind: 'allocate-address' };
  if (!vm.config && !pod.specObserved) return { kind: 'read-config' };
  if (vm.config && !isEmptyWrite(vm.config.write)) return { kind: 'configure' };
  if (vm.config?.disk && vm.config.diskGiB !== undefined && vm.config.diskGiB < size.diskGiB) {
    return { kind: 'resize', disk: vm.config.disk };
  }
  if (pod.desiredPower === 'stopped') return vm.status === 'running' ? { kind: 'stop' } : { kind: 'settled' };
  if (vm.status === 'stopped') return pod.ranAtGeneration ? { kind: 'stopped-out-of-band' } : { kind: 'start' };
  if (pod.rebootWanted) return { kind: 'reboot' };
  if (!pod.ipsKnown) return { kind: 'read-ips' };
  return { kind: 'settled' };
}
