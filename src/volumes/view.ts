import type { VolumeRow } from '../db/schema.ts';
import { shownPhase } from '../front-door.ts';

/** A volume as the API shows it: spec (what was asked), status (what the controller observed). */
export function volumeView(volume: VolumeRow) {
  return {
    id: volume.id,
    tenant_id: volume.tenant_id,
    pod_id: volume.pod_id,
    name: volume.name,
    managed_by: volume.managed_by,
    spec: {
      size_gb: volume.size_gb,
      storage_pool: volume.storage_pool,
      attached: volume.attached,
    },
    status: {
      phase: shownPhase(volume),
      conditions: volume.conditions,
      generation: volume.generation,
      observed_generation: volume.observed_generation,
      proxmox_volume_id: volume.proxmox_volume_id,
      slot: volume.slot,
    },
    deletion_requested_at: volume.deletion_requested_at,
    created_at: volume.created_at,
    updated_at: volume.updated_at,
  };
}

export type VolumeView = ReturnType<typeof volumeView>;
