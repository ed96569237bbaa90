import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';
import { recordAudit } from '../observability/audit.ts';
import { volumeKind } from './kind.ts';
import { markVolumesDeleting, volumesOfPod } from './store.ts';

/**
 * What the pod side needs of volumes: a pod being deleted takes its volumes with it. The pod controller marks them
 * once the pod's blocking pod.pre_destroy hooks have been delivered, the volume controller destroys each disk and
 * removes its row, and the pod controller removes the pod once `podVolumesGone` says so (the rows' foreign key would
 * refuse it earlier anyway).
 */

/** Marks every volume of the pod for deletion, bumps their generation and enqueues their reconciles, in `trx`. */
export async function markPodVolumesDeleting(trx: Kysely<Database>, engine: JobEngine, podId: string): Promise<string[]> {
  const volumes = await volumesOfPod(trx, podId);
  const marked = await markVolumesDeleting(trx, volumes.map((v) => v.id));
  // Rows already deleting keep their reconcile going; asking again costs nothing and covers a lost job.
  await volumeKind.enqueue(engine, trx, volumes.map((v) => v.id));
  for (const volume of volumes.filter((v) => marked.includes(v.id))) {
    await recordAudit(trx, { actor: { type: 'system', id: 'pod-deletion' }, category: 'volume',
      action: 'volume.deletion_requested', tenantId: volume.tenant_id, podId,
      details: { volume_id: volume.id, name: volume.name, reason: 'pod deleted' } });
  }
  return marked;
}

/** True when no volume row of the pod remains. */
export async function podVolumesGone(db: Kysely<Database>, podId: string): Promise<boolean> {
  const row = await db.selectFrom('cloud_pod_volumes').select('id').where('pod_id', '=', podId).limit(1).executeTakeFirst();
  return row === undefined;
}
