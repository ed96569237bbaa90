import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { changePod, createPod, deletePod, type FrontDoor, type PodOrderDeps } from '../pods/orders.ts';
import { findPod, type Pod } from '../pods/store.ts';
import { KubeApiError, type KubeClient } from './client.ts';
import { finalizerName } from './crds/schema.ts';
import type { EventRecorder } from './events.ts';
import { changeOf, orderOf, refusalReason, refusedStatus, statusDiffers, statusOf, type CloudPodStatus } from './pod-mapping.ts';
import { tenantOfNamespace } from './tenancy.ts';

export const cloudPodsPath = '/apis/cloudpods.mpanel.io/v1alpha1';
const objectPath = (o: any) => `${cloudPodsPath}/namespaces/${o.metadata.namespace}/cloudpods/${o.metadata.name}`;

export interface PodBridgeDeps {
  db: Kysely<Database>;
  orders: PodOrderDeps;
  client: KubeClient;
  events: EventRecorder;
  logger: Logger;
}

const actor = { type: 'kubernetes' as const, id: 'bridge' };

async function podOfResource(db: Kysely<Database>, uid: string): Promise<Pod | undefined> {
  const row = await db.selectFrom('cloud_pods').select('id').where('kube_uid', '=', uid).executeTakeFirst();
  return row ? findPod(db, row.id) : undefined;
}

/**
 * Writes the status subresource with a merge patch, only when it differs. A 409 (someone wrote in between) is
 * retried against a fresh read; merge patch replaces arrays, so conditions always go whole.
 */
export async function writeStatus(client: KubeClient, resource: any, next: (fresh: any) => CloudPodStatus | null): Promise<any> {
  let current = resource;
  for (let attempt = 1; ; attempt++) {
    const status = next(current);
    if (!status || !statusDiffers(current.status, status)) return current;
    try {
      return await client.request('PATCH', `${objectPath(current)}/status`,
        { metadata: { resourceVersion: current.metadata.resourceVersion }, status: { ...status, ...nulls(current.status, status) } }, 'merge');
    } catch (error) {
      if (!(error instanceof KubeApiError) || error.status !== 409 || attempt >= 5) throw error;
      current = await client.request('GET', objectPath(current));
    }
  }
}

/** Merge patch keeps fields it does not name: fields no longer in the status are sent as null to remove them. */
function nulls(previous: CloudPodStatus | undefined, next: CloudPodStatus): Record<string, null> {
  return Object.fromEntries(Object.keys(previous ?? {}).filter((k) => !(k in next)).map((k) => [k, null]));
}

async function setFinalizers(client: KubeClient, resource: any, finalizers: string[]): Promise<void> {
  try {
    await client.request('PATCH', objectPath(resource), { metadata: {
      resourceVersion: resource.metadata.resourceVersion, finalizers: finalizers.length ? finalizers : null } }, 'merge');
  } catch (error) {
    // A stale copy (409) or a resource already gone (404): the next event carries the current state.
    if (error instanceof KubeApiError && (error.status === 409 || error.status === 404)) return;
    throw error;
  }
}

/**
 * Brings one CloudPod and its row together, level-triggered: finalizer first, then the order (create, change or
 * delete through src/pods/orders.ts with the Kubernetes front door), then status back. Refused orders become a
 * Ready=False condition with a reason and a Warning event; transient errors are thrown for a retry.
 */
export async function syncCloudPod(deps: PodBridgeDeps, resource: any): Promise<void> {
  const { client, db, events } = deps;
  const finalizers: string[] = resource.metadata.finalizers ?? [];
  const deleting = Boolean(resource.metadata.deletionTimestamp);
  if (!deleting && !finalizers.includes(finalizerName)) {
    await setFinalizers(client, resource, [...finalizers, finalizerName]);
    return; // the MODIFIED event brings the resource back with its finalizer
  }
  let pod = await podOfResource(db, resource.metadata.uid);
  if (deleting) {
    if (!finalizers.includes(finalizerName)) return;
    if (!pod) {
      await events.record(resource, 'Normal', 'Deleted', 'Delete', 'the VM and everything of the pod are gone');
      await setFinalizers(client, resource, finalizers.filter((f) => f !== finalizerName));
      return;
    }
    if (!pod.deletion_requested_at) {
      await deletePod(deps.orders, pod.id, null, actor, undefined, doorOf(resource));
      await events.record(resource, 'Normal', 'Deleting', 'Delete', `tearing down VM ${pod.vmid ?? '(none yet)'}`);
      pod = (await findPod(db, pod.id)) ?? pod;
    }
    await writeStatus(client, resource, (fresh) => statusOf(pod!, fresh));
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
  const written = await writeStatus(client, resource, (fresh) => statusOf(current, fresh));
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
    return pod ? { ...base, conditions: refused.conditions! } : refused;
  });
  if (already?.reason !== reason) await deps.events.record(resource, 'Warning', reason, 'Reconcile', message);
}
