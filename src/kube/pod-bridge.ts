import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { changePod, createPod, deletePod } from '../pods/orders.ts';
import { findPod, type Pod } from '../pods/store.ts';
import { actor, doorOf, type BridgeDeps } from './deps.ts';
import { changeOf, orderOf, statusOf } from './pod-mapping.ts';
import { refusalReason, refuse, reportStatus } from './status-report.ts';
import { ensureFinalizer, holdsFinalizer, removeFinalizer, writeStatus } from './resource-writes.ts';

async function podOfResource(db: Kysely<Database>, uid: string): Promise<Pod | undefined> {
  const row = await db.selectFrom('cloud_pods').select('id').where('kube_uid', '=', uid).executeTakeFirst();
  return row ? findPod(db, row.id) : undefined;
}

/**
 * Brings one CloudPod and its row together, level-triggered: finalizer first, then the order (create, change or
 * delete through src/pods/orders.ts with the Kubernetes front door), then status back. Refused orders become a
 * Ready=False condition with a reason and a Warning event; transient errors are thrown for a retry.
 */
export async function syncCloudPod(deps: BridgeDeps, resource: any): Promise<void> {
  const { client, db, events } = deps;
  if (await ensureFinalizer(client, resource)) return; // the MODIFIED event brings it back with the finalizer
  let pod = await podOfResource(db, resource.metadata.uid);
  if (resource.metadata.deletionTimestamp) {
    if (!holdsFinalizer(resource)) return;
    if (!pod) {
      await events.record(resource, 'Normal', 'Deleted', 'Delete', 'the VM and everything of the pod are gone');
      await removeFinalizer(client, resource);
      return;
    }
    if (!pod.deletion_requested_at) {
      await deletePod(deps.orders, pod.id, null, actor, undefined, doorOf(resource));
      await events.record(resource, 'Normal', 'Deleting', 'Delete', `tearing down VM ${pod.vmid ?? '(none yet)'}`);
      pod = (await findPod(db, pod.id)) ?? pod;
    }
    await writeStatus(client, resource, (fresh) => ({ ...statusOf(pod!, fresh) }));
    return;
  }
  if (!pod) {
    const owner = await deps.tenantOf(resource.metadata.namespace);
    if ('unknown' in owner) {
      await refuse(deps, resource, 'TenantUnknown', owner.unknown);
      return;
    }
    try {
      pod = await createPod(deps.orders, orderOf(owner.tenant.id, resource.metadata.name, resource.spec), actor, undefined,
        doorOf(resource));
    } catch (error) {
      if (error instanceof AppError) {
        await refuse(deps, resource, refusalReason(error.code, error.message, error.details), error.message);
        return;
      }
      throw error;
    }
    await events.record(resource, 'Normal', 'Created', 'Create', `pod ${pod.id} ordered for tenant ${owner.tenant.slug}`);
  } else {
    const change = changeOf(pod, resource.spec);
    if (Object.keys(change).length > 0 && !pod.deletion_requested_at) {
      try {
        // The pod's tenant, not null (an admin's scope): its zone rules bind a name the spec changes.
        pod = await changePod(deps.orders, pod.id, pod.tenant_id, change, actor, undefined, doorOf(resource));
        await events.record(resource, 'Normal', 'Updated', 'Update', `changed ${Object.keys(change).join(', ')}`);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        await refuse(deps, resource, refusalReason(error.code, error.message), error.message, (fresh) => ({ ...statusOf(pod!, fresh) }));
        return;
      }
    }
  }
  const current = pod;
  await reportStatus(deps, resource, (fresh) => ({ ...statusOf(current, fresh) }));
}
