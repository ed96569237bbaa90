import type { OrderScope } from '../front-door.ts';
import type { Tenant } from '../tenancy/tenants.ts';
import { scopeOf, type BridgeDeps } from './deps.ts';
import type { KubeResource, ResourceStatus } from './resource.ts';
import { ensureFinalizer, holdsFinalizer, removeFinalizer, writeStatus } from './resource-writes.ts';
import { refusalOf, refuse, reportStatus } from './status-report.ts';
import { tenantMoved } from './tenancy.ts';

/** What an order on behalf of a resource did: the row as it is now, and the note of its event (null: no change). */
export interface Ordered<Row> {
  row: Row;
  note: string | null;
}

/**
 * One kind the bridge serves, as a small adapter over its orders: how its row is found, ordered, changed and
 * deleted, and what status it shows. Everything around it (finalizer, tenancy, apply or teardown, refusals, status
 * and events) is `syncResource`'s, the same for every kind. Adapters throw refusals as AppErrors with a reason.
 */
export interface BridgedKind<Spec, Row> {
  kind: string;
  /** The path segment of its collection. */
  plural: string;
  /** The row that holds the resource's spec (a CloudPodDNSRecord's live rows, as one), by the resource's uid. */
  find(deps: BridgeDeps, resource: KubeResource<Spec>): Promise<Row | undefined>;
  /** The tenant the row was ordered for: it stays the row's whatever the namespace's label says later. */
  tenantOf(row: Row): string;
  deletionAsked(row: Row): boolean;
  /** Orders the row of a resource that has none, for the namespace's tenant. */
  create(deps: BridgeDeps, scope: OrderScope, resource: KubeResource<Spec>, tenant: Tenant): Promise<Ordered<Row>>;
  /** Brings the row to the resource's spec (note null when nothing had to change). */
  change(deps: BridgeDeps, scope: OrderScope, resource: KubeResource<Spec>, row: Row): Promise<Ordered<Row>>;
  /** Asks for the row's deletion: the row as it is now, or undefined when it went at once. */
  delete(deps: BridgeDeps, scope: OrderScope, row: Row): Promise<Row | undefined>;
  /** The status subresource the row shows (pure). */
  status(row: Row, resource: KubeResource<Spec>): ResourceStatus;
  /** The notes of the kind's Normal events; `created` names the creation's reason when it is not `Created`. */
  notes: { created?: string; deleting(row: Row): string; deleted(resource: KubeResource<Spec>): string };
  /**
   * For rows that outlive their spec (a DNS name's rows stay until PowerDNS no longer serves them): the status while
   * some are still going, null once none is. Without it, a teardown is done once no row holds the spec.
   */
  leaving?(deps: BridgeDeps, resource: KubeResource<Spec>)
    : Promise<((fresh: KubeResource<Spec>) => ResourceStatus) | null>;
  /** The CloudPod a resource of this kind names (`spec.podName`), so its row's changes sync the resource too. */
  podNameOf?(spec: Spec): string;
}

/** The tenant and the deletion of a row of the shared object model (pods, volumes, hooks). */
export const objectRow = {
  tenantOf: (row: { tenant_id: string }): string => row.tenant_id,
  deletionAsked: (row: { deletion_requested_at: Date | null }): boolean => row.deletion_requested_at !== null,
};

/**
 * Brings one resource and its row together, level-triggered: the finalizer first; a deleted resource is torn down;
 * otherwise the row is ordered or brought to the spec through the kind's orders, then its status written back. A
 * refused order is Ready=False with its reason and a Warning event; anything else is thrown for a retry.
 */
export async function syncResource<Spec, Row>(deps: BridgeDeps, kind: BridgedKind<Spec, Row>,
  resource: KubeResource<Spec>): Promise<void> {
  if (await ensureFinalizer(deps.client, resource)) return; // the MODIFIED event brings it back with the finalizer
  if (resource.metadata.deletionTimestamp) {
    if (holdsFinalizer(resource)) await tearDown(deps, kind, resource);
    return;
  }
  const owner = await deps.tenantOf(resource.metadata.namespace);
  const row = await kind.find(deps, resource);
  let order: () => Promise<Ordered<Row>>;
  if (row !== undefined) {
    const moved = await tenantMoved(deps.db, kind.tenantOf(row), resource, owner);
    if (moved) return refuse(deps, resource, 'TenantChanged', moved, (fresh) => ({ ...fresh.status }));
    order = () => kind.change(deps, scopeOf(resource, kind.tenantOf(row)), resource, row);
  } else if ('tenant' in owner) {
    order = () => kind.create(deps, scopeOf(resource, owner.tenant.id), resource, owner.tenant);
  } else {
    return refuse(deps, resource, 'TenantUnknown', owner.unknown);
  }
  let ordered: Ordered<Row>;
  try {
    ordered = await order();
  } catch (error) {
    const refusal = refusalOf(error);
    if (!refusal) throw error;
    // Over the row's status as it is now: part of a change may have been applied before the refusal.
    const current = row === undefined ? undefined : await kind.find(deps, resource);
    return refuse(deps, resource, refusal.reason, refusal.message,
      current === undefined ? undefined : (fresh) => kind.status(current, fresh));
  }
  if (ordered.note !== null) {
    await deps.events.record(resource, 'Normal', row !== undefined ? 'Updated' : kind.notes.created ?? 'Created',
      row !== undefined ? 'Update' : 'Create', ordered.note);
  }
  await reportStatus(deps, resource, (fresh) => kind.status(ordered.row, fresh));
}

/**
 * A deleted resource: its row's deletion is asked once, through the orders; the finalizer goes only once nothing of
 * the row is left (the controller removes it after what it stands for), and until then the row's status shows.
 */
async function tearDown<Spec, Row>(deps: BridgeDeps, kind: BridgedKind<Spec, Row>, resource: KubeResource<Spec>)
  : Promise<void> {
  const row = await kind.find(deps, resource);
  let left = row;
  if (row !== undefined && !kind.deletionAsked(row)) {
    left = await kind.delete(deps, scopeOf(resource, kind.tenantOf(row)), row);
    await deps.events.record(resource, 'Normal', 'Deleting', 'Delete', kind.notes.deleting(row));
  }
  const leaving = left === undefined ? await kind.leaving?.(deps, resource) : undefined;
  if (left !== undefined) {
    await writeStatus(deps.client, resource, (fresh) => kind.status(left, fresh));
  } else if (leaving) {
    await writeStatus(deps.client, resource, leaving);
  } else {
    await deps.events.record(resource, 'Normal', 'Deleted', 'Delete', kind.notes.deleted(resource));
    await removeFinalizer(deps.client, resource);
  }
}

/** A resource gone from Kubernetes without our finalizer's teardown (forced removal): its row goes too. */
export async function syncVanished<Spec, Row>(deps: BridgeDeps, kind: BridgedKind<Spec, Row>,
  resource: KubeResource<Spec>): Promise<void> {
  const row = await kind.find(deps, resource);
  if (row !== undefined && !kind.deletionAsked(row)) {
    await kind.delete(deps, scopeOf(resource, kind.tenantOf(row)), row);
  }
}
