import type { Kysely } from 'kysely';
import type { Database, VolumeRow } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { createVolume, deleteVolume, resizeVolume, setAttached, type VolumeScope } from '../volumes/orders.ts';
import { findVolume } from '../volumes/store.ts';
import { actor, doorOf, podOfCloudPod, type BridgeDeps } from './deps.ts';
import { ensureFinalizer, holdsFinalizer, removeFinalizer, writeStatus } from './resource-writes.ts';
import { refusalReason, refuse, reportStatus } from './status-report.ts';
import { changeOf, orderOf, statusOf, type CloudPodVolumeSpec, type VolumeChange } from './volume-mapping.ts';

function volumeOfResource(db: Kysely<Database>, uid: string): Promise<VolumeRow | undefined> {
  return db.selectFrom('cloud_pod_volumes').selectAll().where('kube_uid', '=', uid).executeTakeFirst();
}

/** The scope of orders on an existing row: its own pod and tenant, audited as the bridge. */
const scopeOf = (volume: VolumeRow): VolumeScope => ({ podId: volume.pod_id, tenantId: volume.tenant_id, actor });

/**
 * Brings one CloudPodVolume and its row together, level-triggered like a CloudPod: finalizer first, then the order
 * (create, resize, attach or detach, delete through src/volumes/orders.ts with the Kubernetes front door), then
 * status back. The resource means "this pod has this volume": while its CloudPod has no row (not applied yet, or
 * deleted, which takes its volumes along) it reports PodNotFound, and the volume is ordered again once it has one.
 */
export async function syncCloudPodVolume(deps: BridgeDeps, resource: any): Promise<void> {
  const { client, db, events } = deps;
  if (await ensureFinalizer(client, resource)) return; // the MODIFIED event brings it back with the finalizer
  const spec: CloudPodVolumeSpec = resource.spec;
  let volume = await volumeOfResource(db, resource.metadata.uid);
  if (resource.metadata.deletionTimestamp) {
    if (!holdsFinalizer(resource)) return;
    if (!volume) {
      await events.record(resource, 'Normal', 'Deleted', 'Delete', 'the disk of the volume is gone');
      await removeFinalizer(client, resource);
      return;
    }
    if (!volume.deletion_requested_at) {
      volume = (await deleteVolume(deps.orders, scopeOf(volume), volume.id, doorOf(resource))) ?? volume;
      await events.record(resource, 'Normal', 'Deleting', 'Delete',
        `destroying ${volume.proxmox_volume_id ?? `volume ${volume.id} (no disk yet)`}`);
    }
    const current = volume;
    await writeStatus(client, resource, (fresh) => ({ ...statusOf(current, fresh) }));
    return;
  }
  if (!volume) {
    const owner = await deps.tenantOf(resource.metadata.namespace);
    if ('unknown' in owner) {
      await refuse(deps, resource, 'TenantUnknown', owner.unknown);
      return;
    }
    const pod = await podOfCloudPod(db, owner.tenant.id, resource.metadata.namespace, spec.podName);
    if (!pod) {
      await refuse(deps, resource, 'PodNotFound',
        `no CloudPod ${spec.podName} in namespace ${resource.metadata.namespace}: the volume is ordered once it exists`);
      return;
    }
    if (pod.deletion_requested_at) {
      await refuse(deps, resource, 'PodDeleting',
        `CloudPod ${spec.podName} is being deleted: the volume is ordered again once it is applied again`);
      return;
    }
    try {
      volume = await createVolume(deps.orders, { podId: pod.id, tenantId: owner.tenant.id, actor },
        orderOf(resource.metadata.name, spec), doorOf(resource));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      await refuse(deps, resource, refusalReason(error.code, error.message, error.details), error.message);
      return;
    }
    await events.record(resource, 'Normal', 'Created', 'Create',
      `volume ${volume.id} of ${volume.size_gb} GiB ordered for CloudPod ${spec.podName}`);
  } else if (!volume.deletion_requested_at) {
    const change = changeOf(volume, spec);
    if (Object.keys(change).length > 0) {
      try {
        volume = await applyChange(deps, resource, volume, change);
        await events.record(resource, 'Normal', 'Updated', 'Update', `changed ${Object.keys(change).join(', ')}`);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        const current = (await findVolume(db, volume.id)) ?? volume;
        await refuse(deps, resource, refusalReason(error.code, error.message), error.message,
          (fresh) => ({ ...statusOf(current, fresh) }));
        return;
      }
    }
  }
  const current = volume;
  await reportStatus(deps, resource, (fresh) => ({ ...statusOf(current, fresh) }));
}

/**
 * The attachment first, then the size, each through the orders with the resource's door: a growth refused (over
 * quota) then leaves the attachment applied, and is asked again at each sync until it fits.
 */
async function applyChange(deps: BridgeDeps, resource: any, volume: VolumeRow, change: VolumeChange): Promise<VolumeRow> {
  let current = volume;
  if (change.attached !== undefined) {
    current = await setAttached(deps.orders, scopeOf(current), current.id, change.attached, doorOf(resource));
  }
  if (change.size_gb !== undefined) {
    current = await resizeVolume(deps.orders, scopeOf(current), current.id, change.size_gb, doorOf(resource));
  }
  return current;
}

/** A CloudPodVolume gone from Kubernetes without our finalizer's teardown (forced removal): its volume goes too. */
export async function orphanedVolume(deps: BridgeDeps, resource: any): Promise<void> {
  const volume = await volumeOfResource(deps.db, resource.metadata.uid);
  if (volume && !volume.deletion_requested_at) {
    await deleteVolume(deps.orders, scopeOf(volume), volume.id, doorOf(resource));
  }
}
