import type { Kysely } from 'kysely';
import type { Condition, Database, VolumeRow } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { assertOwnedBy, ownershipColumns, type OrderScope } from '../front-door.ts';
import type { JobEngine } from '../jobs/engine.ts';
import { recordAudit } from '../observability/audit.ts';
import { assertDiskStorage } from '../proxmox/cluster-checks.ts';
import type { ClusterLookup } from '../proxmox/cluster-lookup.ts';
import { volumeKind } from './kind.ts';
import type { CloudPodQuotasService } from '../tenancy/quotas.ts';
import { findVolume, insertVolume, lockVolume, markVolumesDeleting, nameTaken, updateVolumeSpec } from './store.ts';

/**
 * The writes of the volumes' front doors (the REST API and the Kubernetes bridge): each checks, changes the row,
 * audits (category `volume`) and enqueues the volume's reconcile in one transaction, so nothing is half done and no
 * change goes unnoticed by the controller. A volume changes only through the front door that created it.
 */

export interface VolumeOrderDeps {
  db: Kysely<Database>;
  engine: JobEngine;
  quotas: CloudPodQuotasService;
  /** The cluster as the controller last saw it, for a storage that must exist there; null without Proxmox. */
  cluster: ClusterLookup | null;
}

/** A volume of a pod, as the REST path names it: a volume of another pod is not found. */
export interface VolumeRef {
  podId: string;
  id: string;
}

export interface NewVolumeOrder {
  podId: string;
  name: string;
  size_gb: number;
  /** Default: the storage of the pod's template. */
  storage_pool?: string | undefined;
  /** Default true; false creates the disk as an unused disk of the VM. */
  attached?: boolean | undefined;
}

const pendingCondition = (generation: number): Condition => ({
  type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting for the controller',
  lastTransitionTime: new Date().toISOString(), observedGeneration: generation,
});

/**
 * The pod, locked: orders queue behind a pod deletion and vice versa (the pod controller marks every volume once the
 * blocking pod.pre_destroy hooks have been delivered; until then a change is refused as for the pod).
 */
async function lockPodOf(trx: Kysely<Database>, scope: OrderScope, podId: string) {
  const pod = await trx.selectFrom('cloud_pods as p').innerJoin('cloud_pod_templates as t', 't.id', 'p.template_id')
    .select(['p.id', 'p.tenant_id', 'p.name', 'p.node', 'p.deletion_requested_at', 't.storage_pool as template_storage'])
    .where('p.id', '=', podId).forUpdate('p').executeTakeFirst();
  if (!pod || (scope.tenantId !== null && pod.tenant_id !== scope.tenantId)) {
    throw new AppError(404, 'not_found', 'pod not found', undefined, 'PodNotFound');
  }
  return pod;
}

/** The volume of this pod, locked, when the scope's door may write it (`verb`: what a refusal says to do elsewhere). */
async function lockOwned(trx: Kysely<Database>, scope: OrderScope, ref: VolumeRef, verb: string)
  : Promise<VolumeRow & { podDeleting: boolean }> {
  const pod = await lockPodOf(trx, scope, ref.podId);
  const volume = await lockVolume(trx, ref.id);
  if (!volume || volume.pod_id !== pod.id) {
    throw new AppError(404, 'not_found', 'volume not found', undefined, 'VolumeNotFound');
  }
  assertOwnedBy(volume, scope.door, `volume ${volume.name}`, verb);
  return { ...volume, podDeleting: pod.deletion_requested_at !== null };
}

/** The volume for a change: of this pod, this front door's, and neither it nor its pod going away. */
async function lockForChange(trx: Kysely<Database>, scope: OrderScope, ref: VolumeRef): Promise<VolumeRow> {
  const { podDeleting, ...volume } = await lockOwned(trx, scope, ref, 'change');
  if (volume.deletion_requested_at || podDeleting) {
    throw new AppError(409, 'conflict', `volume ${volume.name} is being deleted${podDeleting ? ' with its pod' : ''}`,
      undefined, podDeleting ? 'PodDeleting' : 'VolumeDeleting');
  }
  return volume;
}

/**
 * Orders a new volume for a pod: the pod must be the tenant's and not being deleted, the name free on the pod and
 * the size within the tenant's disk quota, a storage named by the order on the pod's node (any node while it is not
 * placed) and holding VM disks there. A pod still provisioning accepts it; the controller waits for the VM.
 */
export async function createVolume(deps: VolumeOrderDeps, scope: OrderScope, order: NewVolumeOrder)
  : Promise<VolumeRow> {
  const id = await deps.db.transaction().execute(async (trx) => {
    const pod = await lockPodOf(trx, scope, order.podId);
    if (pod.deletion_requested_at) {
      throw new AppError(409, 'conflict', `pod ${pod.name} is being deleted`, undefined, 'PodDeleting');
    }
    if (await nameTaken(trx, pod.id, order.name)) {
      throw new AppError(409, 'conflict', `the pod already has a volume named ${order.name}`,
        { fields: [{ name: 'name', messages: ['a volume with this name exists on the pod'] }] }, 'NameConflict');
    }
    if (order.storage_pool !== undefined) await assertDiskStorage(deps.cluster, order.storage_pool, pod.node);
    await deps.quotas.reserve(trx, pod.tenant_id, { disk_gb: order.size_gb });
    const storagePool = order.storage_pool ?? pod.template_storage;
    const attached = order.attached ?? true;
    const row = await insertVolume(trx, {
      tenant_id: pod.tenant_id, pod_id: pod.id, name: order.name, size_gb: order.size_gb, storage_pool: storagePool,
      attached, conditions: JSON.stringify([pendingCondition(1)]), ...ownershipColumns(scope.door),
    });
    await recordAudit(trx, { actor: scope.actor, category: 'volume', action: 'volume.created', tenantId: pod.tenant_id,
      podId: pod.id, requestId: scope.requestId, details: { volume_id: row.id, name: order.name, size_gb: order.size_gb,
        storage_pool: storagePool, attached } });
    await volumeKind.enqueue(deps.engine, trx, row.id);
    return row.id;
  });
  return (await findVolume(deps.db, id))!;
}

/** Asks for the volume to be attached (true) or detached (false); asking for what is already asked changes nothing. */
export async function setAttached(deps: VolumeOrderDeps, scope: OrderScope, ref: VolumeRef, attached: boolean)
  : Promise<VolumeRow> {
  const { id } = ref;
  await deps.db.transaction().execute(async (trx) => {
    const volume = await lockForChange(trx, scope, ref);
    if (volume.attached === attached) return;
    await updateVolumeSpec(trx, id, { attached });
    await recordAudit(trx, { actor: scope.actor, category: 'volume', action: attached ? 'volume.attach_requested'
      : 'volume.detach_requested', tenantId: volume.tenant_id, podId: volume.pod_id, requestId: scope.requestId,
      details: { volume_id: id, name: volume.name } });
    await volumeKind.enqueue(deps.engine, trx, id);
  });
  return (await findVolume(deps.db, id))!;
}

/** A volume only grows (PVE cannot shrink a disk): a smaller size is 422; the growth is checked against the quota. */
export async function resizeVolume(deps: VolumeOrderDeps, scope: OrderScope, ref: VolumeRef, sizeGb: number)
  : Promise<VolumeRow> {
  const { id } = ref;
  await deps.db.transaction().execute(async (trx) => {
    const volume = await lockForChange(trx, scope, ref);
    if (sizeGb < volume.size_gb) {
      throw new AppError(422, 'validation_error', `size_gb: a volume cannot shrink: it has ${volume.size_gb} GB`,
        { fields: [{ name: 'size_gb', messages: [`a volume cannot shrink: it has ${volume.size_gb} GB`] }] },
        'SpecInvalid');
    }
    if (sizeGb === volume.size_gb) return;
    await deps.quotas.reserve(trx, volume.tenant_id, { disk_gb: sizeGb - volume.size_gb });
    await updateVolumeSpec(trx, id, { size_gb: sizeGb });
    await recordAudit(trx, { actor: scope.actor, category: 'volume', action: 'volume.resize_requested',
      tenantId: volume.tenant_id, podId: volume.pod_id, requestId: scope.requestId,
      details: { volume_id: id, name: volume.name, size_gb: { old: volume.size_gb, new: sizeGb } } });
    await volumeKind.enqueue(deps.engine, trx, id);
  });
  return (await findVolume(deps.db, id))!;
}

/**
 * Marks the volume for deletion; the controller destroys its disk, writes the phase and removes the row. Asking twice
 * changes nothing.
 */
export async function deleteVolume(deps: VolumeOrderDeps, scope: OrderScope, ref: VolumeRef)
  : Promise<VolumeRow | undefined> {
  const { id } = ref;
  await deps.db.transaction().execute(async (trx) => {
    const volume = await lockOwned(trx, scope, ref, 'delete');
    if ((await markVolumesDeleting(trx, [id])).length === 0) return;
    await recordAudit(trx, { actor: scope.actor, category: 'volume', action: 'volume.deletion_requested',
      tenantId: volume.tenant_id, podId: volume.pod_id, requestId: scope.requestId,
      details: { volume_id: id, name: volume.name, proxmox_volume_id: volume.proxmox_volume_id } });
    await volumeKind.enqueue(deps.engine, trx, id);
  });
  return findVolume(deps.db, id);
}
