import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { changePod, createPod, deletePod, type FrontDoor, type PodOrderDeps } from '../pods/orders.ts';
import { findPod, type Pod } from '../pods/store.ts';
import type { KubeClient } from './client.ts';
import type { EventRecorder } from './events.ts';
import { changeOf, orderOf, refusalReason, refusedStatus, statusOf, type CloudPodStatus } from './pod-mapping.ts';
import { ensureFinalizer, holdsFinalizer, removeFinalizer, writeStatus } from './resource-writes.ts';
import { tenantOfNamespace } from './tenancy.ts';

export interface PodBridgeDeps {
  db: Kysely<Database>;
  orders: PodOrderDeps;
  client: KubeClient;
  events: EventRecorder;
  logger: Logger;
}

export const actor = { type: 'kubernetes' as const, id: 'bridge' };

async function podOfResource(db: Kysely<Database>, uid: string): Promise<Pod | undefined> {
  const row = await db.selectFrom('cloud_pods').select('id').where('kube_uid', '=', uid).executeTakeFirst();
  return row ? findPod(db, row.id) : undefined;
}

/**
 * Brings one CloudPod and its row together, level-triggered: finalizer first, then the order (create, change or
 * delete through src/pods/orders.ts with the Kubernetes front door), then status back. Refused orders become a
 * Ready=False condition with a reason and a Warning event; transient errors are thrown for a retry.
 */
export async function syncCloudPod(deps: PodBridgeDeps, resource: any): Promise<void> {
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
    const owner = await tenantOfNamespace(client, db, resource.metadata.namespace);
    if ('unknown' in owner) {
      await refuse(deps, resource, 'TenantUnknown', owner.unknown);
      return;
    }
    try {
      pod = await createPod(deps.orders, orderOf(owner.tenant.id, resource.metadata.name, resource.spec), actor, undefined,
        doorOf(resource));
    } catch (error) {
      if (error instanceof AppError) {
        await refuse(deps, resource, refusalReason(error.code, error.message), error.message);
        return;
      }
      throw error;
    }
    await events.record(resource, 'Normal', 'Created', 'Create', `pod ${pod.id} ordered for tenant ${owner.tenant.slug}`);
  } else {
    const change = changeOf(pod, resource.spec);
    if (Object.keys(change).length > 0 && !pod.deletion_requested_at) {
      try {
        pod = await changePod(deps.orders, pod.id, null, change, actor, undefined, doorOf(resource));
        await events.record(resource, 'Normal', 'Updated', 'Update', `changed ${Object.keys(change).join(', ')}`);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        await refuse(deps, resource, refusalReason(error.code, error.message), error.message, pod);
        return;
      }
    }
  }
  const before = resource.status as CloudPodStatus | undefined;
  const current = pod;
  const written = await writeStatus(client, resource, (fresh) => ({ ...statusOf(current, fresh) }));
  const ready = (s: CloudPodStatus | undefined) => s?.conditions?.find((c) => c.type === 'Ready');
  const after = ready(written.status);
  if (after && after.status !== ready(before)?.status) {
    await events.record(resource, after.status === 'True' ? 'Normal' : 'Warning', after.status === 'True' ? 'Ready' : after.reason,
      'Reconcile', after.message ?? '');
  }
}

const doorOf = (resource: any): FrontDoor => ({ managedBy: 'kubernetes', uid: resource.metadata.uid,
  namespace: resource.metadata.namespace, name: resource.metadata.name });

/** An order that cannot be met as written: say why on the resource, once (status and event only on change). */
async function refuse(deps: PodBridgeDeps, resource: any, reason: string, message: string, pod?: Pod): Promise<void> {
  const generation = resource.metadata.generation ?? 1;
  const already = resource.status?.conditions?.find((c: any) => c.type === 'Ready');
  await writeStatus(deps.client, resource, (fresh) => {
    const base = pod ? statusOf(pod, fresh) : fresh.status;
    const refused = refusedStatus(base, generation, reason, message);
    return { ...(pod ? { ...base, conditions: refused.conditions! } : refused) };
  });
  if (already?.reason !== reason) await deps.events.record(resource, 'Warning', reason, 'Reconcile', message);
}
