import { classifyExitStatus } from '../../src/proxmox/classify.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { NotFoundError, StorageFullError } from '../../src/proxmox/errors.ts';
import { bootDisk } from '../pod/disk.ts';
import { ownedBy } from '../pod/identity.ts';
import { observeTask as observePodTask } from '../pod/observe.ts';
import { freeSlot, locateDisk, slotFree, volidOf } from './disks.ts';
import type { StoredFacts, TaskFacts, VmFacts } from './plan.ts';

/** What the task recorded in a volume's row has come to (as for pods), a full storage told apart. */
export async function observeTask(proxmox: ProxmoxClient, upid: string): Promise<TaskFacts> {
  const task = await observePodTask(proxmox, upid);
  if (task.state !== 'failed') return task;
  const storageFull = classifyExitStatus(task.message) instanceof StorageFullError;
  return { state: 'failed', type: task.type, message: task.message, storageFull };
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
