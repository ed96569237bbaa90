import type { DnsRecordRow, DnsRecordStatus } from '../../src/db/schema.ts';
import type { RRsetChange } from '../../src/powerdns/types.ts';
import { findCondition, type ConditionUpdate } from '../../src/runtime/conditions.ts';
import type { Decision } from '../../src/runtime/kit.ts';
import type { ConditionChange } from '../../src/runtime/status.ts';
import { conditionTypes, reasons } from './reasons.ts';
import type { DnsObservation, RRsetView } from './observe.ts';
import { planRRset, servedAsDesired } from './plan.ts';

/** The one write the DNS controller makes at a time. */
export type DnsStep =
  /** One RRset change in one zone; `drift`: it repairs a record of ours changed behind our back. */
  | { kind: 'write'; view: RRsetView; change: RRsetChange; drift: boolean }
  /** Every RRset of a row being deleted is gone from the server: the row goes. */
  | { kind: 'delete-row' };

/** What a write could not do, told to the next decision. */
export type DnsOutcome = { kind: 'rejected'; message: string };

export interface DnsTimings {
  /** When a written record not yet served is looked at again. */
  notServedRetryMs: number;
  /** When a record in error (conflict, zone missing) is looked at again; the resync looks too. */
  errorRetryMs: number;
}

/** What became of one RRset, once nothing is left to write for it. */
type Outcome =
  | { kind: 'served' }
  | { kind: 'notServed' | 'zoneNotFound' | 'conflict'; message: string };

type Progress = { step: DnsStep } | { outcome: Outcome };

/** Pure: the next write for one RRset, or what it has come to. */
function progress(view: RRsetView, ownerId: string, wasServed: boolean): Progress {
  if (!view.zone) return { outcome: { kind: 'zoneNotFound', message: '' } };
  const plan = planRRset(view.desired, view.rrsets, ownerId, { wasServed });
  if (plan.action === 'conflict') return { outcome: { kind: 'conflict', message: plan.message } };
  if (plan.action === 'write') return { step: { kind: 'write', view, change: plan.change, drift: plan.drift } };
  // Someone else's record is there (only possible when we want nothing): asking the server would show theirs.
  if (!plan.verify || servedAsDesired(view.desired, view.answers ?? [])) return { outcome: { kind: 'served' } };
  return { outcome: { kind: 'notServed',
    message: `${view.desired.name} ${view.desired.type} is not served as wanted yet (answer: ${view.answerText})` } };
}

const readyFalse = (reason: string, message: string): ConditionUpdate =>
  ({ type: conditionTypes.ready, status: 'False', reason, message });

function readyFrom(outcome: Outcome): ConditionUpdate {
  switch (outcome.kind) {
    case 'served': return { type: conditionTypes.ready, status: 'True', reason: reasons.served,
      message: 'served by the authoritative server' };
    case 'notServed': return readyFalse(reasons.notServed, outcome.message);
    case 'zoneNotFound': return readyFalse(reasons.zoneNotFound, outcome.message);
    case 'conflict': return readyFalse(reasons.conflict, outcome.message);
  }
}

/** The condition says this very spec was served: a difference found now was made behind our back (drift). */
function servedAtThisGeneration(row: DnsRecordRow, type: string): boolean {
  const condition = findCondition(row.conditions, type);
  return condition?.status === 'True' && condition.observedGeneration === row.generation;
}

/**
 * Pure: from a row and what PowerDNS shows, the DNS controller's next write, conditions, phase and next look.
 * Deleting removes the PTR first, then the forward record (nothing ever points back at a name that is gone), and
 * the row once the server no longer answers with either. Otherwise the forward RRset comes first, then the PTR.
 */
export function decideRecord(row: DnsRecordRow, seen: DnsObservation, timings: DnsTimings, outcome?: DnsOutcome)
  : Decision<DnsStep, DnsRecordStatus> {
  // PowerDNS refused the data itself: retrying the same spec cannot help.
  if (outcome?.kind === 'rejected') return { terminal: { reason: reasons.rejected, message: outcome.message }, phase: 'error' };
  if (row.deletion_requested_at !== null) {
    for (const view of [seen.ptr, seen.forward]) {
      if (!view) continue;
      const next = progress(view, seen.ownerId, false);
      if ('step' in next) return { step: next.step };
      if (next.outcome.kind === 'notServed') {
        return { conditions: [readyFalse(reasons.deleting, next.outcome.message)],
          requeueAfterMs: timings.notServedRetryMs };
      }
    }
    return { step: { kind: 'delete-row' } };
  }

  const fwd = progress(seen.forward, seen.ownerId, servedAtThisGeneration(row, conditionTypes.ready));
  if ('step' in fwd) return { step: fwd.step };
  const ptr = seen.ptr ? progress(seen.ptr, seen.ownerId, servedAtThisGeneration(row, conditionTypes.ptrReady)) : null;
  if (ptr && 'step' in ptr) return { step: ptr.step };

  const forward = fwd.outcome.kind === 'zoneNotFound'
    ? { kind: 'zoneNotFound' as const, message: `zone ${row.zone_name} does not exist in PowerDNS; it is never created automatically` }
    : fwd.outcome;
  // No reverse zone matters only when a PTR is asked for and someone should get it.
  const reverse = ptr?.outcome.kind === 'zoneNotFound'
    ? (row.ptr && seen.ptr!.desired.contents.length > 0
      ? { kind: 'zoneNotFound' as const, message: `no reverse zone for ${seen.ptr!.desired.name} exists in PowerDNS` } : null)
    : ptr?.outcome ?? null;
  const ptrCondition: ConditionChange = row.ptr && reverse ? { ...readyFrom(reverse), type: conditionTypes.ptrReady }
    : { remove: conditionTypes.ptrReady };
  const phase: DnsRecordStatus = forward.kind === 'served' ? 'active' : forward.kind === 'notServed' ? 'pending' : 'error';
  const waiting = forward.kind === 'notServed' || reverse?.kind === 'notServed';
  return {
    conditions: [readyFrom(forward), ptrCondition], phase,
    requeueAfterMs: waiting ? timings.notServedRetryMs : forward.kind !== 'served' ? timings.errorRetryMs : null,
  };
}
