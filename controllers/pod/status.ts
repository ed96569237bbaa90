import type { PodStatus } from '../../src/db/schema.ts';
import type { PodRow } from '../../src/pods/store.ts';
import { findCondition } from '../../src/runtime/conditions.ts';
import { conditionTypes, reasons } from './reasons.ts';

export interface StatusInput {
  deleting: boolean;
  settled: boolean;
  terminal: boolean;
  placed: boolean;
  desiredPower: 'running' | 'stopped';
  current: PodStatus;
  provisioned: boolean;
}

/** The spec's one-word phase: pending, provisioning, active, stopped, error, deleting. */
export function podPhase(input: StatusInput): PodStatus {
  if (input.deleting) return 'deleting';
  if (input.terminal) return 'error';
  if (input.settled) return input.desiredPower === 'running' ? 'active' : 'stopped';
  // A pod that was up keeps its phase while it changes (a resize, a start), rather than looking new again.
  if (input.provisioned && (input.current === 'active' || input.current === 'stopped')) return input.current;
  return input.placed ? 'provisioning' : 'pending';
}

/** The spec's generation was converged (Ready for this very generation): steady state reads no configuration. */
export function settledAtGeneration(pod: Pick<PodRow, 'conditions' | 'generation'>): boolean {
  const ready = findCondition(pod.conditions, conditionTypes.ready);
  return ready?.status === 'True' && ready.observedGeneration === pod.generation;
}

/**
 * The VM ran for this very generation: Ready (computed for the current generation) is True with reason Active, or
 * False because auto-heal gave up on the running pod (which is no reason to start it either).
 */
export function ranAtGeneration(pod: Pick<PodRow, 'conditions' | 'generation'>): boolean {
  const ready = findCondition(pod.conditions, conditionTypes.ready);
  if (ready?.observedGeneration !== pod.generation) return false;
  return (ready.status === 'True' && ready.reason === reasons.active) || ready.reason === reasons.healGivenUp;
}
