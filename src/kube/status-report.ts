import type { Condition } from '../db/schema.ts';
import { fromDatabaseError } from '../db/errors.ts';
import { AppError, type RefusalReason } from '../errors.ts';
import { setCondition } from '../runtime/conditions.ts';
import { kinds } from './crds/index.ts';
import type { BridgeDeps } from './deps.ts';
import type { KubeObject, ResourceStatus } from './resource.ts';
import { writeStatus } from './resource-writes.ts';

/** Status writes every kind's sync shares: its row's status, or a refusal, each with an event only on a transition. */

/**
 * The Ready reasons of a resource whose spec is not carried out: an order's refusal (its reason as thrown), the
 * namespace's tenancy (TenantChanged), or a refusal that names no reason (OrderRefused).
 */
export type ShownRefusal = RefusalReason | 'TenantChanged' | 'OrderRefused';

const readyOf = (status: ResourceStatus | undefined) => status?.conditions?.find((c) => c.type === 'Ready');

/**
 * The observed generation and conditions of a resource from its row(s). Row and resource generations differ, so
 * the resource's generation counts as observed only when the row has `converged` on exactly the resource's spec;
 * otherwise the last observed one stays. Each condition carries it (the rows' own generations are dropped).
 */
export function observedConditions(converged: boolean, rowConditions: readonly Condition[],
  resource: { metadata: { generation?: number }; status?: { observedGeneration?: number } })
  : { observedGeneration?: number; conditions: Condition[] } {
  const observedGeneration = converged ? resource.metadata.generation : resource.status?.observedGeneration;
  const conditions = rowConditions.map((c) => {
    const { observedGeneration: _rowGeneration, ...rest } = c;
    return observedGeneration === undefined ? rest as Condition : { ...rest, observedGeneration };
  });
  return observedGeneration === undefined ? { conditions } : { observedGeneration, conditions };
}

/** The phase of a resource that has nothing provisioned: `pending`, where its kind has that phase. */
function phaseWithoutRow(kind: string | undefined): string | undefined {
  const phases = (kinds.find((k) => k.kind === kind)?.status as any)?.properties?.phase?.enum as string[] | undefined;
  return phases?.includes('pending') ? 'pending' : undefined;
}

/**
 * The status of a resource that has no row because its order was refused: Ready=False with the reason, and
 * nothing of an earlier row (VMID, slot, ids).
 */
export function refusedStatus(previous: ResourceStatus | undefined, generation: number, reason: string, message: string,
  now = new Date(), kind = 'CloudPod'): ResourceStatus {
  const conditions = setCondition(previous?.conditions ?? [], { type: 'Ready', status: 'False', reason, message }, generation, now);
  const phase = phaseWithoutRow(kind);
  return { ...(phase ? { phase } : {}), observedGeneration: generation, conditions };
}

/**
 * A failed order as the resource shows it: a refusal (an AppError, or a PostgreSQL error that slipped past
 * validation, mapped as the REST API maps it) with the reason it was thrown with; null for what is worth a retry
 * (an unavailable service, a lost connection, a bug), which the bridge retries with backoff.
 */
export function refusalOf(error: unknown): { reason: ShownRefusal; message: string } | null {
  const refusal = fromDatabaseError(error) ?? error;
  if (!(refusal instanceof AppError) || refusal.status >= 500) return null;
  return { reason: refusal.reason ?? 'OrderRefused', message: refusal.message };
}

/**
 * An order that cannot be met as written: Ready=False with the reason on the resource, over the status its row
 * would show (`rowStatus`, when it has a row), and a Warning event the first time this reason appears.
 */
export async function refuse<R extends KubeObject>(deps: BridgeDeps, resource: R, reason: ShownRefusal, message: string,
  rowStatus?: (fresh: R) => ResourceStatus): Promise<void> {
  const generation = resource.metadata.generation ?? 1;
  const already = readyOf(resource.status);
  await writeStatus(deps.client, resource, (fresh) => {
    const base = rowStatus ? rowStatus(fresh) : fresh.status;
    const refused = refusedStatus(base, generation, reason, message, new Date(), resource.kind);
    return rowStatus ? { ...base, conditions: refused.conditions! } : refused;
  });
  if (already?.reason !== reason) await deps.events.record(resource, 'Warning', reason, 'Reconcile', message);
}

/** Writes the row's status to the resource (only when it changed), with an event when Ready flips. */
export async function reportStatus<R extends KubeObject>(deps: BridgeDeps, resource: R,
  rowStatus: (fresh: R) => ResourceStatus): Promise<void> {
  const before = readyOf(resource.status);
  const written = await writeStatus(deps.client, resource, rowStatus);
  const after = readyOf(written.status);
  if (after && after.status !== before?.status) {
    const ready = after.status === 'True';
    await deps.events.record(resource, ready ? 'Normal' : 'Warning', ready ? 'Ready' : after.reason, 'Reconcile',
      after.message ?? '');
  }
}
