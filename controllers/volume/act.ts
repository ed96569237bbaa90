import type { Kysely } from 'kysely';
import type { Database, VolumeRow } from '../../src/db/schema.ts';
import { recordAudit } from '../../src/observability/audit.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { requeueAfter, type Result } from '../../src/runtime/result.ts';
import { deleteVolumeRow, otherVolumeNaming, setVolumeFields } from '../../src/volumes/store.ts';
import type { VolumeAction, VolumeTimings } from './decide.ts';
import { volumeSerial } from './disks.ts';
import { observeStored, type LoadedVolume, type VolumeObservation } from './observe.ts';

export interface VolumeActDeps {
  db: Kysely<Database>;
  proxmox: ProxmoxClient;
  timings: VolumeTimings;
}

const isUniqueViolation = (error: unknown) => (error as { code?: string } | undefined)?.code === '23505';

/**
 * Performs the volume controller's one write. Crash safety comes from the order of things: the slot is recorded
 * before a disk is allocated into it, a task's UPID right after submitting (the run then ends, and the next one
 * observes the task), the volume id as soon as the disk is seen.
 */
export async function actOnVolume(deps: VolumeActDeps, action: VolumeAction, { row: volume, pod }: LoadedVolume,
  seen: VolumeObservation): Promise<Result | void> {
  const { db, proxmox } = deps;
  const node = pod.node!;
  const vmid = pod.vmid!;
  /** Records the UPID right after submitting, so a restart waits on the same task instead of submitting again. */
  const submitted = async (upid: string | null): Promise<Result | void> => {
    if (upid === null) return;
    await setVolumeFields(db, volume.id, { task_upid: upid });
    return requeueAfter(deps.timings.taskPollMs);
  };

  switch (action.kind) {
    case 'task-done':
      await setVolumeFields(db, volume.id, { task_upid: null });
      return;
    case 'clear-failed-task':
      await setVolumeFields(db, volume.id, { task_upid: null });
      if (action.then === 'capacity') return requeueAfter(deps.timings.capacityRetryMs);
      throw new Error(action.message);
    case 'adopt':
      await setVolumeFields(db, volume.id, { proxmox_volume_id: action.volid, ...(action.slot ? { slot: action.slot } : {}) });
      return;
    case 'pick-slot':
      try {
        await setVolumeFields(db, volume.id, { slot: action.slot });
      } catch (error) {
        // Another volume of the pod claimed the slot first: look again, it is no longer free for this one.
        if (!isUniqueViolation(error)) throw error;
      }
      return;
    case 'record-slot':
      await setVolumeFields(db, volume.id, { slot: action.slot });
      return;
    case 'clear-slot':
      await setVolumeFields(db, volume.id, { slot: null });
      return;
    case 'allocate':
      return submitted(await proxmox.updateConfig(node, vmid, { set: {
        [action.slot]: `${volume.storage_pool}:${volume.size_gb},serial=${volumeSerial(volume.id)}` }, delete: [] }));
    case 'attach':
      return submitted(await proxmox.updateConfig(node, vmid,
        { set: { [action.slot]: `${action.volid},serial=${volumeSerial(volume.id)}` }, delete: [] }));
    case 'resize': {
      const storage = volume.proxmox_volume_id!.split(':')[0]!;
      // Absolute size: a retried resize is a no-op, never a second growth.
      return submitted(await proxmox.resize(node, vmid, action.slot, `${volume.size_gb}G`, { storage }));
    }
    case 'detach':
      // Without force PVE keeps the volume as an unused disk of the VM.
      await proxmox.unlinkDisks(node, vmid, [action.slot]);
      await setVolumeFields(db, volume.id, { slot: null });
      return;
    case 'destroy':
      await proveOwnDisk(deps, volume, node, vmid, action.volid, seen.vm.bootVolid);
      await proxmox.unlinkDisks(node, vmid, action.keys, { force: true });
      return;
    case 'delete-stored':
      await proveOwnDisk(deps, volume, node, vmid, action.volid, seen.vm.bootVolid);
      return submitted(await proxmox.deleteVolume(node, action.volid.split(':')[0]!, action.volid));
    case 'remove-row':
      await db.transaction().execute(async (trx) => {
        await recordAudit(trx, { actor: { type: 'controller', id: 'volume' }, category: 'volume', action: 'volume.deleted',
          tenantId: volume.tenant_id, podId: volume.pod_id, details: { volume_id: volume.id, name: volume.name,
            proxmox_volume_id: volume.proxmox_volume_id } });
        await deleteVolumeRow(trx, volume.id);
      });
      return;
  }
}

/**
 * Right before destroying, read again: the disk must be the one the row names, not the VM's boot disk, named by no
 * other volume, and listed on its storage as a disk of the pod's VMID. Anything else refuses, loudly.
 */
async function proveOwnDisk({ db, proxmox }: VolumeActDeps, volume: VolumeRow, node: string, vmid: number, volid: string,
  bootVolid: string | undefined): Promise<void> {
  const refuse = (why: string) => new Error(`refusing to destroy ${volid} for volume ${volume.id}: ${why}`);
  if (volume.proxmox_volume_id !== volid) throw refuse('it is not the volume id recorded for this volume');
  if (volid === bootVolid) throw refuse('it is the VM\'s boot disk');
  const other = await otherVolumeNaming(db, volid, volume.id);
  if (other) throw refuse(`volume ${other} names it too`);
  if (await observeStored(proxmox, node, vmid, volid) !== 'present') {
    throw refuse(`its storage does not list it as a disk of VM ${vmid}`);
  }
}
