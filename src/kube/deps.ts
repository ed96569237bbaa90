import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { FrontDoor, PodOrderDeps } from '../pods/orders.ts';
import type { PowerDns } from '../powerdns/context.ts';
import type { SystemSettingsService } from '../settings/service.ts';
import type { KubeClient } from './client.ts';
import type { EventRecorder } from './events.ts';
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
export const doorOf = (resource: any): FrontDoor => ({ managedBy: 'kubernetes', uid: resource.metadata.uid,
  namespace: resource.metadata.namespace, name: resource.metadata.name });

/**
 * The pod a CloudPodVolume or CloudPodDNSRecord names (`spec.podName`): the row of the CloudPod of that name in the
 * same namespace and tenant, the newest when a deleted one is still tearing down. Undefined until it has a row.
 */
export function podOfCloudPod(db: Kysely<Database>, tenantId: string, namespace: string, podName: string) {
  return db.selectFrom('cloud_pods').select(['id', 'tenant_id', 'deletion_requested_at'])
    .where('tenant_id', '=', tenantId).where('managed_by', '=', 'kubernetes')
    .where('kube_namespace', '=', namespace).where('kube_name', '=', podName)
    .orderBy('created_at', 'desc').limit(1).executeTakeFirst();
}
