import type { VolumeRow } from '../../src/db/schema.ts';
import { ProxmoxError, LockedError } from '../../src/proxmox/errors.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { registerController, type Controller, type ControllerDefinition, type KitDeps } from '../../src/runtime/kit.ts';
import { volumeKind } from '../../src/volumes/kind.ts';
import { allVolumeIds, findVolume } from '../../src/volumes/store.ts';
import { actOnVolume } from './act.ts';
import { decideVolume, type VolumeAction, type VolumeTimings } from './decide.ts';
import { observeVolume, type LoadedVolume, type VolumeObservation } from './observe.ts';
import { reasons } from './reasons.ts';

export interface VolumeControllerSettings {
  taskPollMs: number;
  resyncEveryMs?: number;
}

/**
 * Registers the volume controller: it converges each volume to its spec on the pod's VM (allocate, attach, grow, detach, and on
 * deletion destroy the disk it proves its own). `volume.reconcile` on the `cloudpods` queue, and `volume.resync`
 * every 5 minutes by default. Register before `engine.start()`.
 */
export function registerVolumeController(deps: KitDeps & { proxmox: ProxmoxClient }, settings: VolumeControllerSettings)
  : Controller {
  return registerController(deps, volumeController(deps, settings));
}

/** The volume controller's definition (tests build it on a recording Proxmox client). */
export function volumeController({ db, proxmox }: Pick<KitDeps, 'db'> & { proxmox: ProxmoxClient },
  settings: VolumeControllerSettings): ControllerDefinition<VolumeRow, LoadedVolume, VolumeObservation, VolumeAction> {
  const timings: VolumeTimings = { taskPollMs: settings.taskPollMs, waitPollMs: Math.min(2_000, settings.taskPollMs * 20),
    capacityRetryMs: 30_000 };
  return {
    kind: volumeKind,
    table: 'cloud_pod_volumes',
    load: async (id) => {
      const row = await findVolume(db, id);
      if (!row) return undefined;
      const pod = await db.selectFrom('cloud_pods').select(['id', 'tenant_id', 'status', 'vmid', 'node', 'deletion_requested_at'])
        .where('id', '=', row.pod_id).executeTakeFirstOrThrow();
      return { row, pod };
    },
    observe: (loaded) => observeVolume(db, proxmox, loaded),
    decide: (loaded, seen) => decideVolume(loaded, seen, timings),
    act: (action, loaded, seen) => actOnVolume({ db, proxmox, timings }, action, loaded, seen),
    failure: (error) => error instanceof ProxmoxError && error.retryable ? { type: 'Ready', status: 'False',
      reason: error instanceof LockedError ? reasons.locked : reasons.proxmoxUnavailable, message: error.message } : null,
    audit: {
      category: 'volume', podId: (row) => row.pod_id,
      details: (row, next) => {
        const ready = next.conditions.find((c) => c.type === 'Ready');
        return { volume_id: row.id, proxmox_volume_id: row.proxmox_volume_id, slot: row.slot, reason: ready?.reason ?? null,
          message: ready?.message ?? null };
      },
    },
    resyncIds: allVolumeIds,
    resyncEveryMs: settings.resyncEveryMs ?? 300_000,
    maxSteps: 12,
    timeoutMs: 120_000,
  };
}
