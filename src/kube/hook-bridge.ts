import { sql } from 'kysely';
import type { Condition } from '../db/schema.ts';
import { setCondition } from '../runtime/conditions.ts';
import type { BridgeDeps } from './deps.ts';
import { ensureFinalizer, holdsFinalizer, removeFinalizer, writeStatus } from './resource-writes.ts';

/**
 * CloudPodHook: stored as a kube-managed cloud_pod_hooks row of the namespace's tenant. There is no hook
 * controller yet (hook delivery is a later issue), so the row is the whole of it: deleting the resource deletes
 * the row, then releases the finalizer.
 */
export async function syncCloudPodHook(deps: BridgeDeps, resource: any): Promise<void> {
  const { client, db, events } = deps;
  if (await ensureFinalizer(client, resource)) return;
  const uid = resource.metadata.uid;
  if (resource.metadata.deletionTimestamp) {
    if (!holdsFinalizer(resource)) return;
    await db.deleteFrom('cloud_pod_hooks').where('kube_uid', '=', uid).execute();
    await removeFinalizer(client, resource);
    return;
  }
  const generation = resource.metadata.generation ?? 1;
  const status = (reason: string, message: string, ready: boolean, phase: string) => (fresh: any) => {
    const conditions: Condition[] = setCondition(fresh.status?.conditions ?? [],
      { type: 'Ready', status: ready ? 'True' : 'False', reason, message }, generation);
    return { phase, observedGeneration: generation, conditions };
  };
  const owner = await deps.tenantOf(resource.metadata.namespace);
  if ('unknown' in owner) {
    await writeStatus(client, resource, status('TenantUnknown', owner.unknown, false, 'pending'));
    return;
  }
  const spec = resource.spec;
  const values = { name: resource.metadata.name, event: spec.event, type: spec.type, target: spec.target,
    is_active: spec.active ?? true, config: JSON.stringify(spec.config ?? {}) };
  try {
    await db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('cloud_pod_hooks').selectAll().where('kube_uid', '=', uid).forUpdate().executeTakeFirst();
      if (!row) {
        await trx.insertInto('cloud_pod_hooks').values({ ...values, tenant_id: owner.tenant.id, managed_by: 'kubernetes',
          kube_uid: uid, kube_namespace: resource.metadata.namespace, kube_name: resource.metadata.name }).execute();
        await events.record(resource, 'Normal', 'Stored', 'Create', `hook stored for tenant ${owner.tenant.slug}`);
      } else if (row.event !== values.event || row.type !== values.type || row.target !== values.target
        || row.is_active !== values.is_active || JSON.stringify(row.config) !== values.config) {
        await trx.updateTable('cloud_pod_hooks').set({ ...values, generation: sql`generation + 1`, updated_at: sql`now()` })
          .where('id', '=', row.id).execute();
      }
    });
  } catch (error) {
    // A CHECK constraint (target form) refuses what the schema let through: a spec error, not a transient one.
    if ((error as { code?: string }).code !== '23514') throw error;
    await writeStatus(client, resource, status('SpecInvalid', (error as Error).message, false, 'error'));
    return;
  }
  await writeStatus(client, resource, status('Stored', 'stored; delivery arrives with the hooks controller', true,
    spec.active === false ? 'pending' : 'active'));
}
