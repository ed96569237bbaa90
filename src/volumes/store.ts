import { sql, type Kysely } from 'kysely';
import type { Database, NewVolume, VolumeRow, VolumeStatus, VolumeUpdate } from '../db/schema.ts';

/** One function per SQL operation on cloud_pod_volumes. */

type Db = Kysely<Database>;

export function findVolume(db: Db, id: string): Promise<VolumeRow | undefined> {
  return db.selectFrom('cloud_pod_volumes').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The volume a Kubernetes resource stands for, by the resource's uid. */
export function findVolumeOfResource(db: Db, kubeUid: string): Promise<VolumeRow | undefined> {
  return db.selectFrom('cloud_pod_volumes').selectAll().where('kube_uid', '=', kubeUid).executeTakeFirst();
}

/** Locks the volume row for the rest of the transaction: spec writers and the controller's status write queue here. */
export function lockVolume(db: Db, id: string): Promise<VolumeRow | undefined> {
  return db.selectFrom('cloud_pod_volumes').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function insertVolume(db: Db, row: NewVolume): Promise<VolumeRow> {
  return db.insertInto('cloud_pod_volumes').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A live volume of the pod with this name (names are unique per pod among volumes not being deleted). */
export async function nameTaken(db: Db, podId: string, name: string): Promise<boolean> {
  const row = await db.selectFrom('cloud_pod_volumes').select('id').where('pod_id', '=', podId).where('name', '=', name)
    .where('deletion_requested_at', 'is', null).executeTakeFirst();
  return row !== undefined;
}

export interface VolumeFilter {
  status?: VolumeStatus;
}

export async function listVolumesOfPod(db: Db, podId: string, filter: VolumeFilter, page: { limit: number; offset: number })
  : Promise<{ volumes: VolumeRow[]; total: number }> {
  let query = db.selectFrom('cloud_pod_volumes').where('pod_id', '=', podId);
  // The phase as the view shows it (shownPhase): a volume whose deletion was asked is deleting.
  if (filter.status === 'deleting') query = query.where('deletion_requested_at', 'is not', null);
  else if (filter.status) query = query.where('status', '=', filter.status).where('deletion_requested_at', 'is', null);
  const [volumes, count] = await Promise.all([
    query.selectAll().orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    query.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { volumes, total: count.n };
}

export function volumesOfPod(db: Db, podId: string): Promise<VolumeRow[]> {
  return db.selectFrom('cloud_pod_volumes').selectAll().where('pod_id', '=', podId).orderBy('created_at').orderBy('id')
    .execute();
}

/** A spec change: the generation moves, so the controller acts and status is recomputed. */
export async function updateVolumeSpec(db: Db, id: string, spec: Pick<VolumeUpdate, 'attached' | 'size_gb'>): Promise<void> {
  await db.updateTable('cloud_pod_volumes').set({ ...spec, generation: sql`generation + 1`, updated_at: sql`now()` })
    .where('id', '=', id).execute();
}

/**
 * Asks for deletion; the controller destroys the disk, writes the phase and removes the row. Returns the ids newly
 * marked.
 */
export async function markVolumesDeleting(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.updateTable('cloud_pod_volumes')
    .set({ deletion_requested_at: sql`now()`, generation: sql`generation + 1`, updated_at: sql`now()` })
    .where('id', 'in', ids).where('deletion_requested_at', 'is', null).returning('id').execute();
  return rows.map((r) => r.id);
}

/** Controller-owned fields (slot, task, volume id) written as the controller records its intent and results. */
export async function setVolumeFields(db: Db, id: string,
  values: Pick<VolumeUpdate, 'slot' | 'task_upid' | 'proxmox_volume_id'>): Promise<void> {
  await db.updateTable('cloud_pod_volumes').set({ ...values, updated_at: sql`now()` }).where('id', '=', id).execute();
}

export async function deleteVolumeRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('cloud_pod_volumes').where('id', '=', id).execute();
}

/** Another volume row naming the same disk (a volume id reissued by the storage to a newer volume), if any. */
export async function otherVolumeNaming(db: Db, volid: string, exceptId: string): Promise<string | undefined> {
  const other = await db.selectFrom('cloud_pod_volumes').select('id').where('proxmox_volume_id', '=', volid)
    .where('id', '!=', exceptId).executeTakeFirst();
  return other?.id;
}

/** Slots the pod's other volumes have recorded. */
export async function slotsClaimedByOthers(db: Db, podId: string, exceptId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('cloud_pod_volumes').select('slot').where('pod_id', '=', podId)
    .where('id', '!=', exceptId).where('slot', 'is not', null).execute();
  return new Set(rows.map((r) => r.slot!));
}

/** Every volume's id, for the controller's resync. */
export async function allVolumeIds(db: Db): Promise<string[]> {
  return (await db.selectFrom('cloud_pod_volumes').select('id').execute()).map((r) => r.id);
}
