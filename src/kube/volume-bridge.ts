import type { VolumeRow } from '../db/schema.ts';
import { createVolume, deleteVolume, resizeVolume, setAttached } from '../volumes/orders.ts';
import { findVolumeOfResource } from '../volumes/store.ts';
import { objectRow, type BridgedKind } from './bridged-kind.ts';
import { podNamedBy } from './deps.ts';
import { changeOf, orderOf, statusOf, type CloudPodVolumeSpec } from './volume-mapping.ts';

/**
 * CloudPodVolume: a kube-managed cloud_pod_volumes row on the pod of the CloudPod its `spec.podName` names, through
 * src/volumes/orders.ts. The resource means "this pod has this volume": while its CloudPod has no row (not applied
 * yet, or deleted, which takes its volumes along) it reports PodNotFound, and the volume is ordered again once it has
 * one.
 */
export const cloudPodVolumes: BridgedKind<CloudPodVolumeSpec, VolumeRow> = {
  kind: 'CloudPodVolume',
  plural: 'cloudpodvolumes',
  ...objectRow,
  find: ({ db }, resource) => findVolumeOfResource(db, resource.metadata.uid),
  podNameOf: (spec) => spec.podName,

  async create({ db, orders }, scope, resource, tenant) {
    const pod = await podNamedBy(db, tenant.id, resource, { exists: 'the volume is ordered once it exists',
      reapplied: 'the volume is ordered again once it is applied again' });
    const volume = await createVolume(orders, scope,
      { podId: pod.id, ...orderOf(resource.metadata.name, resource.spec) });
    return { row: volume,
      note: `volume ${volume.id} of ${volume.size_gb} GiB ordered for CloudPod ${resource.spec.podName}` };
  },

  /**
   * The attachment first, then the size: a growth refused (over quota) then leaves the attachment applied, and is
   * asked again at each sync until it fits.
   */
  async change({ orders }, scope, resource, volume) {
    const change = changeOf(volume, resource.spec);
    if (Object.keys(change).length === 0 || volume.deletion_requested_at) return { row: volume, note: null };
    const ref = { podId: volume.pod_id, id: volume.id };
    let current = volume;
    if (change.attached !== undefined) current = await setAttached(orders, scope, ref, change.attached);
    if (change.size_gb !== undefined) current = await resizeVolume(orders, scope, ref, change.size_gb);
    return { row: current, note: `changed ${Object.keys(change).join(', ')}` };
  },

  delete: ({ orders }, scope, volume) => deleteVolume(orders, scope, { podId: volume.pod_id, id: volume.id }),
  status: (volume, resource) => statusOf(volume, resource),
  notes: {
    deleting: (volume) => `destroying ${volume.proxmox_volume_id ?? `volume ${volume.id} (no disk yet)`}`,
    deleted: () => 'the disk of the volume is gone',
  },
};
