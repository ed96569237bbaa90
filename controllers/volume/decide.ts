import type { VolumeStatus } from '../../src/db/schema.ts';
import type { ConditionUpdate } from '../../src/runtime/conditions.ts';
import type { Decision } from '../../src/runtime/kit.ts';
import { roomFor } from './disks.ts';
import type { LoadedVolume, RoomFacts, VolumeObservation } from './observe.ts';
import { planVolumeStep, type VolumeStep } from './plan.ts';
import { reasons } from './reasons.ts';
import { volumePhase } from './status.ts';

/** The writes the volume controller makes: the plan's steps, and clearing a failed task's UPID. */
export type VolumeAction =
  | Exclude<VolumeStep, { kind: 'wait' | 'no-slot' | 'missing' | 'settled' | 'task-failed' }>
  | { kind: 'clear-slot' }
  /** `then`: `backoff` hands the failure to the engine's retry; `capacity` looks again when room may be made. */
  | { kind: 'clear-failed-task'; message: string; then: 'backoff' | 'capacity' };

export interface VolumeTimings {
  taskPollMs: number;
  /** How soon a volume waiting on its pod or VM is looked at again. */
  waitPollMs: number;
  /** How soon to look again at a full storage: room may be made. */
  capacityRetryMs: number;
}

const ready = (status: 'True' | 'False', reason: string, message: string): ConditionUpdate =>
  ({ type: 'Ready', status, reason, message });

/** Pure: a storage without room is a condition with the numbers; a missing one or one not for disks is terminal. */
function roomProblem(room: RoomFacts | null): Decision<never, VolumeStatus> | null {
  if (!room) return null;
  if (room.state === 'missing') {
    return { terminal: { reason: reasons.storageUnavailable, message: `storage ${room.storage} does not exist on ${room.node}` } };
  }
  if (room.state === 'not-for-disks') {
    return { terminal: { reason: reasons.storageUnavailable, message: `storage ${room.storage} does not hold VM disks` } };
  }
  const fits = roomFor(room.neededGiB, room.availBytes);
  if (fits.ok) return null;
  return { conditions: [ready('False', reasons.storageFull, `storage ${room.storage} on ${room.node} is full: ${
    fits.neededGiB} GiB needed, ${fits.availGiB} GiB available`)] };
}

/**
 * Pure: from the volume, its pod and what Proxmox shows, the volume controller's next write, conditions, phase and
 * next look. `planVolumeStep` chooses the step; this says what a client sees of it.
 */
export function decideVolume({ row: volume, pod }: LoadedVolume, seen: VolumeObservation, timings: VolumeTimings)
  : Decision<VolumeAction, VolumeStatus> {
  const vm = seen.vm.facts;
  const attachedNow = vm.state === 'present' && (volume.proxmox_volume_id || vm.foundVolid) ? vm.attachedAt !== null : null;
  const phaseFor = (readyFalseReason?: string) => volumePhase({ deleting: volume.deletion_requested_at !== null,
    readyFalseReason, exists: volume.proxmox_volume_id !== null, attachedNow, current: volume.status });
  const step = planVolumeStep({ deleting: volume.deletion_requested_at !== null, wantAttached: volume.attached,
    sizeGiB: volume.size_gb, slot: volume.slot, volid: volume.proxmox_volume_id, task: seen.task }, seen.pod, vm, seen.stored);
  const saying = (action: VolumeAction, reason: string, message: string): Decision<VolumeAction, VolumeStatus> =>
    ({ step: action, conditions: [ready('False', reason, message)], phase: phaseFor(reason) });

  switch (step.kind) {
    case 'wait': {
      const reason = { task: reasons.inProgress, pod: reasons.waitingForPod, lock: reasons.locked, vm: reasons.waitingForVm }[step.why];
      return { conditions: [ready('False', reason, step.reason)], phase: phaseFor(reason),
        requeueAfterMs: step.why === 'task' ? timings.taskPollMs : timings.waitPollMs };
    }
    case 'task-failed': {
      const decided = saying({ kind: 'clear-failed-task', message: step.message,
        then: step.reason === reasons.storageFull ? 'capacity' : 'backoff' }, step.reason, step.message);
      return decided;
    }
    case 'no-slot':
      return { terminal: { reason: reasons.noFreeSlot, message: `VM ${pod.vmid} has no free SCSI slot (scsi1 to scsi30) for this volume` },
        phase: 'error' };
    case 'missing':
      return { terminal: { reason: reasons.volumeMissing, message: step.message }, phase: 'error' };
    case 'allocate': {
      const problem = roomProblem(seen.room);
      if (problem?.terminal) return { ...problem, phase: 'error' };
      if (problem) return { ...problem, phase: 'error', requeueAfterMs: timings.capacityRetryMs };
      return saying(step, reasons.creating, `allocating ${volume.size_gb} GiB on ${volume.storage_pool} at ${step.slot}`);
    }
    case 'resize': {
      const problem = roomProblem(seen.room);
      if (problem?.terminal) return { ...problem, phase: 'error' };
      if (problem) return { ...problem, phase: 'error', requeueAfterMs: timings.capacityRetryMs };
      return saying(step, reasons.resizing, `growing ${step.slot} from ${step.currentGiB} to ${volume.size_gb} GiB`);
    }
    case 'attach':
      return saying(step, reasons.attaching, `attaching ${step.volid} at ${step.slot}`);
    case 'destroy':
      return saying(step, reasons.deleting, `destroying ${step.volid}`);
    case 'settled': {
      if (!step.attached && volume.slot) return { step: { kind: 'clear-slot' } };
      const message = step.attached ? `${volume.proxmox_volume_id} attached at ${volume.slot} of VM ${pod.vmid}`
        : `${volume.proxmox_volume_id} kept as an unused disk of VM ${pod.vmid}`;
      const reason = step.attached ? reasons.attached : reasons.detached;
      return { conditions: [ready('True', reason, message)], phase: phaseFor() };
    }
    default:
      // Bookkeeping (task done, adopt, slots), detaching and the deletion steps: no new reason to show.
      return { step };
  }
}
