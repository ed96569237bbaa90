import type { VolumeRow } from '../db/schema.ts';
import { shownPhase } from '../front-door.ts';
import type { NewVolumeOrder } from '../volumes/orders.ts';
import type { ResourceStatus } from './resource.ts';
import { observedConditions } from './status-report.ts';

/** Pure mapping between a CloudPodVolume resource and its cloud_pod_volumes row. */

export interface CloudPodVolumeSpec {
  podName: string;
  sizeGb: number;
  storagePool?: string;
  /** Default true (the CRD defaults it too). */
  attached?: boolean;
}

export interface CloudPodVolumeStatus extends ResourceStatus {
  proxmoxVolumeId?: string;
  slot?: string;
  volumeId?: string;
}

/** What the row must change to match the spec: a larger size, the attachment. */
export interface VolumeChange {
  size_gb?: number;
  attached?: boolean;
}

/** The REST API's order for a new volume, named after the resource (the pod is the one its spec names). */
export function orderOf(name: string, spec: CloudPodVolumeSpec): Omit<NewVolumeOrder, 'podId'> {
  return { name, size_gb: spec.sizeGb, storage_pool: spec.storagePool, attached: spec.attached ?? true };
}

/**
 * The fields the row must change to match the spec; empty when none. A smaller size is passed on as asked (the
 * order refuses it: volumes never shrink); the storage pool is immutable and the pod is fixed by the row.
 */
export function changeOf(volume: Pick<VolumeRow, 'size_gb' | 'attached'>, spec: CloudPodVolumeSpec): VolumeChange {
  const change: VolumeChange = {};
  if (spec.sizeGb !== volume.size_gb) change.size_gb = spec.sizeGb;
  if ((spec.attached ?? true) !== volume.attached) change.attached = spec.attached ?? true;
  return change;
}

/**
 * The status subresource for a row. Generations differ between the row and the resource, so the resource's
 * generation counts as observed only when the row has converged and holds exactly the resource's spec;
 * otherwise the last observed one stays (as for CloudPods).
 */
export function statusOf(volume: VolumeRow, resource: { metadata: { generation?: number }; spec: CloudPodVolumeSpec;
  status?: { observedGeneration?: number } }): CloudPodVolumeStatus {
  const converged = volume.observed_generation >= volume.generation && Object.keys(changeOf(volume, resource.spec)).length === 0;
  const status: CloudPodVolumeStatus = {
    phase: shownPhase(volume),
    ...observedConditions(converged, volume.conditions, resource),
    volumeId: volume.id,
  };
  if (volume.proxmox_volume_id !== null) status.proxmoxVolumeId = volume.proxmox_volume_id;
  if (volume.slot !== null) status.slot = volume.slot;
  return status;
}
