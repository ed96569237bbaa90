import { sql } from 'kysely';
import { AppError } from './errors.ts';
import type { Actor } from './observability/audit.ts';

/**
 * The front door an order comes through: the REST API, or the Kubernetes bridge on behalf of one
 * resource, whose row then carries managed_by 'kubernetes' and the resource's identity. Each front door may change
 * only the objects it owns (ARCHITECTURE.md, one writer per field).
 */
export type FrontDoor = { managedBy: 'api' } | { managedBy: 'kubernetes'; uid: string; namespace: string; name: string };

export const restApi: FrontDoor = { managedBy: 'api' };

/**
 * Who orders, passed the same way to every order function (pods, volumes, DNS names, hooks): the tenant acted for
 * (null: a platform admin, acting on any tenant's objects), the actor audited, the request it came with and the
 * front door it came through.
 */
export interface OrderScope {
  tenantId: string | null;
  actor: Actor;
  requestId?: string | undefined;
  door: FrontDoor;
}

/** The row columns that record which front door owns an object, for an insert through `door`. */
export function ownershipColumns(door: FrontDoor) {
  return door.managedBy === 'kubernetes'
    ? { managed_by: 'kubernetes' as const, kube_uid: door.uid, kube_namespace: door.namespace, kube_name: door.name } : {};
}

export interface OwnedRow {
  managed_by: 'api' | 'kubernetes';
  kube_namespace: string | null;
  kube_name: string | null;
}

/**
 * The phase a front door shows for a row: the controller's, except that a deletion asked for shows as `deleting` at
 * once. Orders record only `deletion_requested_at`; the controller writes the phase when it acts.
 */
/** `shownPhase` in SQL, for queries that count or group rows by the phase a client sees. */
export const shownPhaseSql = sql<string>`case when deletion_requested_at is not null then 'deleting' else status end`;

export function shownPhase<Phase extends string>(row: { status: Phase; deletion_requested_at: Date | null })
  : Phase | 'deleting' {
  return row.deletion_requested_at ? 'deleting' : row.status;
}

/** Refuses a write through a front door that does not own the object (`what`: "pod web-1", "volume data"). */
export function assertOwnedBy(row: OwnedRow, door: FrontDoor, what: string, verb: string): void {
  if (row.managed_by === door.managedBy) return;
  if (row.managed_by === 'kubernetes') {
    throw new AppError(409, 'managed_by_kubernetes',
      `${what} is managed through Kubernetes (${row.kube_namespace}/${row.kube_name}): ${verb} it there`, undefined,
      'ManagedElsewhere');
  }
  throw new AppError(409, 'managed_by_api', `${what} is managed through the REST API`, undefined, 'ManagedElsewhere');
}
