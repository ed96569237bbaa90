import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { FrontDoor, OrderScope } from '../front-door.ts';
import type { Logger } from '../observability/logger.ts';
import type { PodOrderDeps } from '../pods/orders.ts';
import type { PowerDns } from '../powerdns/context.ts';
import type { SystemSettingsService } from '../settings/service.ts';
import type { KubeClient } from './client.ts';
import type { EventRecorder } from './events.ts';
import type { KubeObject, KubeResource } from './resource.ts';
import type { NamespaceTenant } from './tenancy.ts';

/** What the front door's orders need: the same services the REST API orders with. */
export interface OrderServices extends PodOrderDeps {
  settings: SystemSettingsService;
  pdns: PowerDns | null;
  /** `hooks.scriptsDirectory`: a CloudPodHook of type script must name an executable there (src/hooks/orders.ts). */
  scriptsDirectory?: string | undefined;
}

/** Everything one kind's sync may use while this replica leads. */
export interface BridgeDeps {
  db: Kysely<Database>;
  /** Pods and volumes order with these ({ db, engine, quotas }); DNS records also read settings and PowerDNS. */
  orders: OrderServices;
  client: KubeClient;
  events: EventRecorder;
  logger: Logger;
  /** The tenant a namespace belongs to, by its `cloudpods.mpanel.io/tenant` label. */
  tenantOf(namespace: string): Promise<NamespaceTenant>;
}

/** The actor every bridge write is audited with. */
export const actor = { type: 'kubernetes' as const, id: 'bridge' };

/** The front door for orders on behalf of one resource: rows carry its identity and change only through it. */
export const doorOf = (resource: KubeObject): FrontDoor => ({ managedBy: 'kubernetes', uid: resource.metadata.uid,
  namespace: resource.metadata.namespace, name: resource.metadata.name });

/**
 * The scope of orders on behalf of one resource: always a tenant (the namespace's for a new row, the row's own
 * after), so a name it asks for follows that tenant's zone rules; audited as the bridge, through its door.
 */
export const scopeOf = (resource: KubeObject, tenantId: string): OrderScope =>
  ({ tenantId, actor, door: doorOf(resource) });

/**
 * The pod a CloudPodVolume or CloudPodDNSRecord names (`spec.podName`): the row of the CloudPod of that name in the
 * same namespace and tenant, the newest when a deleted one is still tearing down. Undefined until it has a row.
 */
function podOfCloudPod(db: Kysely<Database>, tenantId: string, namespace: string, podName: string) {
  return db.selectFrom('cloud_pods').select(['id', 'tenant_id', 'deletion_requested_at'])
    .where('tenant_id', '=', tenantId).where('managed_by', '=', 'kubernetes')
    .where('kube_namespace', '=', namespace).where('kube_name', '=', podName)
    .orderBy('created_at', 'desc').limit(1).executeTakeFirst();
}

/**
 * The pod of the CloudPod a resource names, to order the resource's row on; else a refusal saying what happens
 * then (`then.exists`, `then.reapplied`): PodNotFound until the CloudPod has a row, PodDeleting while it goes.
 */
export async function podNamedBy(db: Kysely<Database>, tenantId: string, resource: KubeResource<{ podName: string }>,
  then: { exists: string; reapplied: string }): Promise<{ id: string }> {
  const { podName } = resource.spec;
  const { namespace } = resource.metadata;
  const pod = await podOfCloudPod(db, tenantId, namespace, podName);
  if (!pod) {
    throw new AppError(404, 'not_found', `no CloudPod ${podName} in namespace ${namespace}: ${then.exists}`, undefined,
      'PodNotFound');
  }
  if (pod.deletion_requested_at) {
    throw new AppError(409, 'conflict', `CloudPod ${podName} is being deleted: ${then.reapplied}`, undefined, 'PodDeleting');
  }
  return pod;
}
