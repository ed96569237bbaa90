import { isDeepStrictEqual } from 'node:util';
import { sql, type Kysely } from 'kysely';
import type { Condition, Database } from '../db/schema.ts';
import { findCondition, removeCondition, setCondition, type ConditionUpdate } from './conditions.ts';

/** The desired-state tables whose rows carry the shared object model's status columns. */
export type StatusTable = 'cloud_pods' | 'cloud_pod_volumes' | 'cloud_pod_dns_records';

/** The status columns (and the spec's generation) every desired-state row shares. */
export interface StatusRow<Phase extends string = string> {
  id: string;
  tenant_id: string;
  generation: number;
  observed_generation: number;
  status: Phase;
  conditions: Condition[];
  deletion_requested_at: Date | null;
}

/** A condition to set, or the type of one to remove. */
export type ConditionChange = ConditionUpdate | { remove: string };

export interface ObjectStatus<Phase extends string = string> {
  status: Phase;
  conditions: Condition[];
  observed_generation: number;
}

/**
 * The condition that marks a generation the controller cannot converge as written (kstatus' `Stalled`): True, with
 * the terminal reason, for the generation it was decided on. A new spec (or a deletion, which bumps the
 * generation) makes it stale, and the next decision that is not terminal removes it.
 */
export const stalledCondition = 'Stalled';

/** The terminal reason the row's current generation stopped on, or null. */
export function stalledReason(row: Pick<StatusRow, 'conditions' | 'generation'>): string | null {
  const stalled = findCondition(row.conditions, stalledCondition);
  return stalled?.status === 'True' && stalled.observedGeneration === row.generation ? stalled.reason : null;
}

/** Applies changes in order, each with Kubernetes' transition-time rule, stamped with `generation`. */
export function applyConditionChanges(conditions: readonly Condition[], changes: readonly ConditionChange[],
  generation: number, now = new Date()): Condition[] {
  return changes.reduce<Condition[]>((out, change) => ('remove' in change ? removeCondition(out, change.remove)
    : setCondition(out, change, generation, now)), [...conditions]);
}

export const statusChanged = (row: ObjectStatus, next: ObjectStatus): boolean =>
  row.status !== next.status || row.observed_generation !== next.observed_generation
  || !isDeepStrictEqual(row.conditions, next.conditions);

/**
 * Writes status for the generation it was computed from, in `trx`: a spec changed meanwhile makes it a no-op (the
 * change enqueued its own reconcile). True when the row was written.
 */
export async function writeObjectStatus(trx: Kysely<Database>, table: StatusTable, id: string, generation: number,
  next: ObjectStatus): Promise<boolean> {
  // The three tables share these column names; kysely types each table apart, so one of them stands for all.
  const result = await (trx as Kysely<Database>).updateTable(table as 'cloud_pods')
    .set({ status: next.status as never, conditions: JSON.stringify(next.conditions),
      observed_generation: next.observed_generation, updated_at: sql`now()` })
    .where('id', '=', id).where('generation', '=', generation).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
