import type { Kysely } from 'kysely';
import type { Database, PodStatus, VolumeRow } from '../../src/db/schema.ts';
import { classifyExitStatus } from '../../src/proxmox/classify.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { NotFoundError, StorageFullError } from '../../src/proxmox/errors.ts';
import { otherVolumeNaming, slotsClaimedByOthers } from '../../src/volumes/store.ts';
import { bootDisk } from '../../src/proxmox/vm-disks.ts';
import { ownedBy } from '../../src/proxmox/vm-ownership.ts';
import { taskOutcome } from '../../src/proxmox/task-outcome.ts';
import { freeSlot, locateDisk, slotFree, volidOf, volumeSerial } from './disks.ts';
import type { PodFacts, StoredFacts, TaskFacts, VmFacts } from './plan.ts';

/** What the task recorded in a volume's row has come to (as for pods), a full storage told apart. */
export async function observeTask(proxmox: ProxmoxClient, upid: string): Promise<TaskFacts> {
  const task = await taskOutcome(proxmox, upid);
  if (task.state !== 'failed') return task;
  const storageFull = classifyExitStatus(task.message) instanceof StorageFullError;
  return { state: 'failed', type: task.type, message: task.message, storageFull };
}

/** The pod as a volume needs it. */
export interface PodOfVolume {
  id: string;
  tenant_id: string;
  status: PodStatus;
  vmid: number | null;
  node: string | null;
  deletion_requested_at: Date | null;
}

export interface LoadedVolume {
  row: VolumeRow;
  pod: PodOfVolume;
}

export interface VolumeObservation {
  task: TaskFacts | null;
  pod: PodFacts;
  vm: VmObservation;
  stored: StoredFacts;
  /** Read when the disk must be allocated or grown. */
  room: RoomFacts | null;
}

export interface ObserveVmInput {
  podId: string;
  node: string;
  vmid: number;
  volid: string | null;
  serial: string;
  slot: string | null;
  /** Slots other volumes of the pod have recorded. */
  claimed: ReadonlySet<string>;
  /** Look for a running qmconfig task of the VM (before allocating or attaching). */
  checkTasks: (found: { volid: string | null; attachedAt: string | null }) => boolean;
}

export interface VmObservation {
  facts: VmFacts;
  /** The volume id of the VM's boot disk, never to be touched. */
  bootVolid: string | undefined;
}

/** The pod's VM as the volume sees it: where the disk is, which slots are free, whether the VM is busy. */
export async function observeVm(proxmox: ProxmoxClient, input: ObserveVmInput): Promise<VmObservation> {
  let config;
  try {
    config = await proxmox.getConfig(input.node, input.vmid);
  } catch (error) {
    if (error instanceof NotFoundError) return { facts: { state: 'absent' }, bootVolid: undefined };
    throw error;
  }
  // A VM at the pod's VMID without the pod's marks is someone else's: as far as this volume goes, there is none.
  if (!ownedBy(input.podId, { tags: stringOf(config.tags), description: stringOf(config.description) })) {
    return { facts: { state: 'absent' }, bootVolid: undefined };
  }
  const location = locateDisk(config, { volid: input.volid, serial: input.serial });
  const lock = stringOf(config.lock);
  const configTaskActive = !lock && input.checkTasks({ volid: location.volid, attachedAt: location.attachedAt })
    ? (await proxmox.activeTasks(input.node, input.vmid)).some((t) => t.type === 'qmconfig')
    : false;
  const slotTaken = input.slot !== null && input.slot !== location.attachedAt
    && (!slotFree(config, input.slot) || input.claimed.has(input.slot));
  const boot = bootDisk(config);
  return {
    facts: {
      state: 'present', lock: lock || undefined, attachedAt: location.attachedAt, unusedAt: location.unusedAt,
      foundVolid: input.volid ? null : location.volid, diskGiB: location.sizeGiB, slotTaken,
      freeSlot: freeSlot(config, input.claimed), configTaskActive,
    },
    bootVolid: boot ? volidOf(String(config[boot])) : undefined,
  };
}

/** Whether the volume is on its storage as a disk of this VMID (the storage lists each volume with its owner). */
export async function observeStored(proxmox: ProxmoxClient, node: string, vmid: number, volid: string): Promise<StoredFacts> {
  const storage = volid.split(':')[0]!;
  try {
    const content = await proxmox.storageContent(node, storage, { content: 'images', vmid });
    return content.some((item) => item.volid === volid && Number(item.vmid) === vmid) ? 'present' : 'absent';
  } catch (error) {
    if (error instanceof NotFoundError) return 'absent';
    throw error;
  }
}

function stringOf(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

/** What a storage says about room for `neededGiB` more of this volume (read only when the disk must be made or grown). */
export interface RoomFacts {
  storage: string;
  node: string;
  neededGiB: number;
  state: 'missing' | 'not-for-disks' | 'known';
  /** Free bytes, when known. */
  availBytes: number;
}

export async function observeRoom(proxmox: ProxmoxClient, node: string, storage: string, neededGiB: number): Promise<RoomFacts> {
  const facts = { storage, node, neededGiB, availBytes: 0 };
  let status;
  try {
    status = await proxmox.storageStatus(node, storage);
  } catch (error) {
    if (error instanceof NotFoundError) return { ...facts, state: 'missing' };
    throw error;
  }
  if (!status.content.split(',').includes('images')) return { ...facts, state: 'not-for-disks' };
  return { ...facts, state: 'known', availBytes: Number(status.avail ?? 0) };
}

const noVm: VmObservation = { facts: { state: 'absent' }, bootVolid: undefined };

/** The pod as the volume needs it: a VM to attach to, or not yet. */
function podFacts(pod: PodOfVolume): PodFacts {
  const up = pod.status === 'active' || pod.status === 'stopped';
  return up && pod.vmid !== null && pod.node !== null ? { state: 'ready' }
    : { state: 'waiting', reason: `the pod is ${pod.status}: the volume is applied once it is active` };
}

/**
 * Reads only: the volume's task, its pod, the pod's VM as the volume sees it, whether the disk is on its storage
 * (when the VM no longer names it), and the storage's room when the disk must be made or grown. While a task is
 * recorded nothing else is looked at: the next step is about the task alone.
 */
export async function observeVolume(db: Kysely<Database>, proxmox: ProxmoxClient, { row: volume, pod }: LoadedVolume)
  : Promise<VolumeObservation> {
  const task = volume.task_upid ? await observeTask(proxmox, volume.task_upid) : null;
  const deleting = volume.deletion_requested_at !== null;
  const facts = podFacts(pod);
  const nothingMore = { task, pod: facts, vm: noVm, stored: 'unknown' as const, room: null };
  if (task !== null || pod.vmid === null || pod.node === null || (!deleting && facts.state === 'waiting')) {
    return nothingMore;
  }
  const vm = await observeVm(proxmox, {
    podId: pod.id, node: pod.node, vmid: pod.vmid, volid: volume.proxmox_volume_id, serial: volumeSerial(volume.id),
    slot: volume.slot, claimed: await slotsClaimedByOthers(db, pod.id, volume.id),
    // Before anything is allocated or attached: a config task still landing would make it twice.
    checkTasks: (found) => !found.volid || (!deleting && volume.attached && !found.attachedAt),
  });
  const unreferenced = vm.facts.state === 'absent' || (vm.facts.attachedAt === null && vm.facts.unusedAt.length === 0);
  // On its storage and named by no other volume row (a volume id reissued to another volume is not this one).
  const stored: StoredFacts = !volume.proxmox_volume_id || !unreferenced ? 'unknown'
    : await otherVolumeNaming(db, volume.proxmox_volume_id, volume.id) ? 'absent'
      : await observeStored(proxmox, pod.node, pod.vmid, volume.proxmox_volume_id);
  return { task, pod: facts, vm, stored, room: deleting ? null : await roomNeeded(proxmox, volume, pod.node, vm.facts) };
}

/** The room a disk still to be made, or to be grown, needs on its storage; null when none is needed. */
function roomNeeded(proxmox: ProxmoxClient, volume: LoadedVolume['row'], node: string, vm: VmFacts): Promise<RoomFacts> | null {
  if (vm.state !== 'present') return null;
  if (!volume.proxmox_volume_id && !vm.foundVolid) return observeRoom(proxmox, node, volume.storage_pool!, volume.size_gb);
  if (volume.proxmox_volume_id && vm.attachedAt && vm.diskGiB !== undefined && vm.diskGiB < volume.size_gb) {
    return observeRoom(proxmox, node, volume.proxmox_volume_id.split(':')[0]!, volume.size_gb - vm.diskGiB);
  }
  return null;
}
