import type { Condition } from '../db/schema.ts';
import { setCondition } from '../runtime/conditions.ts';
import { kinds } from './crds/index.ts';
import type { BridgeDeps } from './deps.ts';
import { writeStatus } from './resource-writes.ts';

/** Status writes every kind's sync shares: its row's status, or a refusal, each with an event only on a transition. */

export interface ResourceStatus {
  phase?: string;
  observedGeneration?: number;
  conditions?: Condition[];
  [field: string]: unknown;
}

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
 * The reason a refused order shows on its resource: the one the order named (`details.reason`, e.g. NodeNotFound),
 * else from the front door's error code.
 */
export function refusalReason(code: string, message: string, details?: Record<string, unknown>): string {
  if (typeof details?.reason === 'string') return details.reason;
  switch (code) {
    case 'resource_limit_exceeded': return 'QuotaExceeded';
    case 'tenant_suspended': return 'TenantSuspended';
    case 'plan_required': return 'PlanRequired';
    case 'conflict': return /has no (IPv[46] )?address/.test(message) ? 'PodHasNoAddress' : 'NameConflict';
    case 'not_found': return 'PodNotFound';
    case 'forbidden': return 'ZoneNotAllowed';
    case 'validation_error': return /template/.test(message) ? 'TemplateInvalid' : 'SpecInvalid';
    default: return 'OrderRefused';
  }
}

/**
 * An order that cannot be met as written: Ready=False with the reason on the resource, over the status its row
 * would show (`rowStatus`, when it has a row), and a Warning event the first time this reason appears.
 */
export async function refuse(deps: BridgeDeps, resource: any, reason: string, message: string,
  rowStatus?: (fresh: any) => ResourceStatus): Promise<void> {
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
export async function reportStatus(deps: BridgeDeps, resource: any, rowStatus: (fresh: any) => ResourceStatus): Promise<void> {
  const before = readyOf(resource.status);
  const written = await writeStatus(deps.client, resource, (fresh) => ({ ...rowStatus(fresh) }));
  const after = readyOf(written.status);
  if (after && after.status !== before?.status) {
    const ready = after.status === 'True';
    await deps.events.record(resource, ready ? 'Normal' : 'Warning', ready ? 'Ready' : after.reason, 'Reconcile',
      after.message ?? '');
  }
}
