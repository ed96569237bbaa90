import type { Condition, ConditionStatus } from '../db/schema.ts';

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Sets one condition the way Kubernetes does (metav1.Condition): `lastTransitionTime` moves only when the status
 * changes, so a condition re-asserted every reconcile does not look new. Returns a new array; others are kept.
 */
export function setCondition(conditions: readonly Condition[], update: ConditionUpdate, observedGeneration: number,
  now: Date = new Date()): Condition[] {
  const existing = conditions.find((c) => c.type === update.type);
  const lastTransitionTime = existing && existing.status === update.status ? existing.lastTransitionTime
    : now.toISOString();
  const next: Condition = { ...update, lastTransitionTime, observedGeneration };
  return existing ? conditions.map((c) => (c.type === update.type ? next : c)) : [...conditions, next];
}

export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

export function findCondition(conditions: readonly Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

export const isTrue = (conditions: readonly Condition[], type: string): boolean =>
  findCondition(conditions, type)?.status === 'True';
