import type { Condition, PodStatus } from '../../src/db/schema.ts';
import { findCondition, setCondition, type ConditionUpdate } from '../../src/runtime/conditions.ts';

/** Reasons that mean "the spec cannot be met as written": the controller waits for the spec to change. */
export const terminalReasons = new Set(['TemplateInvalid', 'HookFailed']);

/** The reason a pod's current generation stopped on, if it stopped on a terminal one. */
export function terminalReasonOf(conditions: readonly Condition[], generation: number): string | null {
  const ready = findCondition(conditions, 'Ready');
  return ready && ready.status === 'False' && terminalReasons.has(ready.reason)
    && ready.observedGeneration === generation ? ready.reason : null;
}

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

/** Applies several condition updates in order, each with Kubernetes' transition-time rule. */
export function withConditions(conditions: readonly Condition[], updates: readonly ConditionUpdate[],
  generation: number, now = new Date()): Condition[] {
  return updates.reduce<Condition[]>((out, update) => setCondition(out, update, generation, now), [...conditions]);
}
