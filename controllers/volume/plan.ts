/**
 * The volume controller's decision: from what the volume asks for and what Proxmox shows, the one next step. Pure,
 * so every branch is a row in a table test; `decide.ts` says what a client sees of it.
 * (A generation stopped on a terminal reason is never planned again: the controller kit waits for a new spec.)
 *
 * Crash safety comes from the order of things: the slot is recorded before a disk is allocated into it, the UPID
 * right after submitting, the volume id as soon as the disk is seen; a disk found by its serial is adopted rather
 * than allocated twice, and while a config task of the VM may still be landing nothing new is submitted.
 */

export interface VolumeFacts {
  deleting: boolean;
  wantAttached: boolean;
  sizeGiB: number;
  /** Recorded in the row. */
  slot: string | null;
  volid: string | null;
  task: TaskFacts | null;
}

export type TaskFacts =
  | { state: 'running'; type: string }
  | { state: 'ok'; type: string }
  | { state: 'failed'; type: string; message: string; storageFull: boolean };

/** The pod as the volume needs it: a VM to attach to, or not yet. */
export type PodFacts = { state: 'ready' } | { state: 'waiting'; reason: string };

export type VmFacts =
  | { state: 'absent' }
  | {
    state: 'present';
    lock: string | undefined;
    /** Where the disk is in the VM's configuration. */
    attachedAt: string | null;
    unusedAt: readonly string[];
    /** The volume id seen in the configuration (by serial when the row has none yet). */
    foundVolid: string | null;
    diskGiB: number | undefined;
    /** The recorded slot holds something that is not this volume. */
    slotTaken: boolean;
    /** The lowest slot free for this volume. */
    freeSlot: string | null;
    /** A qmconfig task of the VM runs (only looked at when it matters: before allocating or attaching). */
    configTaskActive: boolean;
  };

/** Whether the recorded volume exists on its storage, for this VMID; `unknown` when not looked at. */
export type StoredFacts = 'present' | 'absent' | 'unknown';

export type VolumeStep =
  | { kind: 'wait'; reason: string; why: 'task' | 'pod' | 'lock' | 'vm' }
  | { kind: 'task-done' }
  | { kind: 'task-failed'; reason: 'StorageFull' | 'TaskFailed'; message: string }
  | { kind: 'adopt'; volid: string; slot: string | null }
  | { kind: 'pick-slot'; slot: string }
  | { kind: 'no-slot' }
  | { kind: 'allocate'; slot: string }
  | { kind: 'attach'; slot: string; volid: string }
  | { kind: 'record-slot'; slot: string }
  | { kind: 'resize'; slot: string; currentGiB: number }
  | { kind: 'detach'; slot: string }
  | { kind: 'missing'; message: string }
  | { kind: 'settled'; attached: boolean }
  | { kind: 'destroy'; keys: string[]; volid: string }
  | { kind: 'delete-stored'; volid: string }
  | { kind: 'remove-row' };

export function planVolumeStep(volume: VolumeFacts, pod: PodFacts, vm: VmFacts, stored: StoredFacts): VolumeStep {
  if (volume.task?.state === 'running') return { kind: 'wait', reason: `${volume.task.type} task running`, why: 'task' };
  if (volume.task?.state === 'ok') return { kind: 'task-done' };
  if (volume.task?.state === 'failed') {
    return { kind: 'task-failed', reason: volume.task.storageFull ? 'StorageFull' : 'TaskFailed',
      message: `${volume.task.type}: ${volume.task.message}` };
  }
  return volume.deleting ? planDelete(volume, vm, stored) : planApply(volume, pod, vm, stored);
}

function planDelete(volume: VolumeFacts, vm: VmFacts, stored: StoredFacts): VolumeStep {
  // The VM is gone (its destroy took attached and unused disks along): only a disk left on the storage remains.
  if (vm.state === 'absent') {
    return volume.volid && stored === 'present' ? { kind: 'delete-stored', volid: volume.volid } : { kind: 'remove-row' };
  }
  if (vm.lock) return { kind: 'wait', reason: `VM is locked (${vm.lock})`, why: 'lock' };
  // A disk found by serial is recorded first: nothing is destroyed that the row does not name.
  if (!volume.volid && vm.foundVolid) return { kind: 'adopt', volid: vm.foundVolid, slot: vm.attachedAt };
  if (!volume.volid && vm.configTaskActive) {
    return { kind: 'wait', reason: 'a configuration task of the VM may still allocate this disk', why: 'task' };
  }
  if (!volume.volid) return { kind: 'remove-row' };
  const keys = [...(vm.attachedAt ? [vm.attachedAt] : []), ...vm.unusedAt];
  if (keys.length > 0) return { kind: 'destroy', keys, volid: volume.volid };
  if (stored === 'present') return { kind: 'delete-stored', volid: volume.volid };
  return { kind: 'remove-row' };
}

function planApply(volume: VolumeFacts, pod: PodFacts, vm: VmFacts, stored: StoredFacts): VolumeStep {
  if (pod.state === 'waiting') return { kind: 'wait', reason: pod.reason, why: 'pod' };
  if (vm.state === 'absent') return { kind: 'wait', reason: 'the pod\'s VM is not there', why: 'vm' };
  if (vm.lock) return { kind: 'wait', reason: `VM is locked (${vm.lock})`, why: 'lock' };

  if (!volume.volid) {
    if (vm.foundVolid) return { kind: 'adopt', volid: vm.foundVolid, slot: vm.attachedAt };
    if (vm.configTaskActive) return { kind: 'wait', reason: 'a configuration task of the VM is running', why: 'task' };
    const slot = usableSlot(volume, vm);
    if (!slot) return { kind: 'no-slot' };
    if (slot !== volume.slot) return { kind: 'pick-slot', slot };
    return { kind: 'allocate', slot };
  }

  if (!volume.wantAttached) {
    return vm.attachedAt ? { kind: 'detach', slot: vm.attachedAt } : { kind: 'settled', attached: false };
  }
  if (vm.attachedAt) {
    if (vm.attachedAt !== volume.slot) return { kind: 'record-slot', slot: vm.attachedAt };
    if (vm.diskGiB !== undefined && vm.diskGiB < volume.sizeGiB) {
      return { kind: 'resize', slot: vm.attachedAt, currentGiB: vm.diskGiB };
    }
    return { kind: 'settled', attached: true };
  }
  if (vm.unusedAt.length === 0 && stored === 'absent') {
    return { kind: 'missing', message: `volume ${volume.volid} is neither in the VM's configuration nor on its storage` };
  }
  if (vm.configTaskActive) return { kind: 'wait', reason: 'a configuration task of the VM is running', why: 'task' };
  const slot = usableSlot(volume, vm);
  if (!slot) return { kind: 'no-slot' };
  if (slot !== volume.slot) return { kind: 'pick-slot', slot };
  return { kind: 'attach', slot, volid: volume.volid };
}

/** The recorded slot while it is free for this volume, else the lowest free one. */
function usableSlot(volume: VolumeFacts, vm: Extract<VmFacts, { state: 'present' }>): string | null {
  if (volume.slot && !vm.slotTaken) return volume.slot;
  return vm.freeSlot;
}
