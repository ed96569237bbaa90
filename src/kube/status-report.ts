import type { Condition } from '../db/schema.ts';
import { setCondition } from '../runtime/conditions.ts';
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

/** The status of a resource that has no row because its order was refused: Ready=False with the reason. */
export function refusedStatus(previous: ResourceStatus | undefined, generation: number, reason: string, message: string,
  now = new Date()): ResourceStatus {
  const conditions = setCondition(previous?.conditions ?? [], { type: 'Ready', status: 'False', reason, message }, generation, now);
  return { phase: 'pending', observedGeneration: generation, conditions };
}

/** The reason a refused order shows on its resource, from the front door's error code. */
export function refusalReason(code: string, message: string): string {
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
    const refused = refusedStatus(base, generation, reason, message);
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
