import { AppError } from './errors.ts';

/**
 * The front door an order comes through: the REST API (default), or the Kubernetes bridge on behalf of one
 * resource, whose row then carries managed_by 'kubernetes' and the resource's identity. Each front door may change
 * only the objects it owns (ARCHITECTURE.md, one writer per field).
 */
export type FrontDoor = { managedBy: 'api' } | { managedBy: 'kubernetes'; uid: string; namespace: string; name: string };

export const restApi: FrontDoor = { managedBy: 'api' };

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

/** Refuses a write through a front door that does not own the object (`what`: "pod web-1", "volume data"). */
export function assertOwnedBy(row: OwnedRow, door: FrontDoor, what: string, verb: string): void {
  if (row.managed_by === door.managedBy) return;
  if (row.managed_by === 'kubernetes') {
    throw new AppError(409, 'managed_by_kubernetes',
      `${what} is managed through Kubernetes (${row.kube_namespace}/${row.kube_name}): ${verb} it there`);
  }
  throw new AppError(409, 'managed_by_api', `${what} is managed through the REST API`);
}
