import type { Kysely, Transaction } from 'kysely';
import type { Registry } from 'prom-client';
import type { AuditCategory, Database } from '../db/schema.ts';
import { recordAudit } from '../observability/audit.ts';
import type { JobEngine } from '../jobs/engine.ts';
import type { Logger } from '../observability/logger.ts';
import type { ConditionUpdate } from './conditions.ts';
import { registerReconciler, type ReconcileContext } from './controller.ts';
import { TerminalError, toError } from './errors.ts';
import type { Kind } from './kind.ts';
import { done, requeueAfter, type Result } from './result.ts';
import {
  applyConditionChanges, stalledCondition, stalledReason, statusChanged, writeObjectStatus,
  type ConditionChange, type ObjectStatus, type StatusRow, type StatusTable,
} from './status.ts';

/**
 * The controller kit: every reconciled kind is declared once as `load → observe → decide → act`, and the runtime
 * owns the rest (the loop, the one status write per run, terminal reasons, the error policy, metrics, resync).
 *
 * - `load` reads the desired row (and what it needs beside it); nothing loaded means the object is gone.
 * - `observe` only reads the outside world.
 * - `decide` is pure: the one next step or none, the conditions, the phase, when to look again, and a terminal
 *   reason when the spec cannot be met as written. Every reason a client can see is chosen here.
 * - `act` makes one write to the outside world (or to the row's own bookkeeping columns) and returns nothing to
 *   go on with the next decision at once, a Result to end the run there, or `{ outcome }` when the write could not
 *   be made (no slot, no answer): the next `decide` is told, so the reason shown is still chosen by `decide`.
 */
export interface Decision<Step, Phase extends string> {
  /** The one next step; none when the object is settled or must wait. */
  step?: Step;
  /** Conditions to set (or remove), in order; the runtime stamps them with the generation it read. */
  conditions?: ConditionChange[];
  /** The one-word phase; omitted keeps the row's. */
  phase?: Phase;
  /** With no step: when to look again (null or omitted: only when something asks). */
  requeueAfterMs?: number | null;
  /**
   * The spec cannot be met as written: Ready=False with this reason, the generation counted as observed, and no
   * further run until the spec changes (`Stalled` marks it). The phase is `phase`.
   */
  terminal?: { reason: string; message: string };
}

export interface RunContext extends ReconcileContext {
  log: Logger;
  /** When the run began: long waits inside it (a task, a guest agent) share one budget. */
  startedAt: number;
  /** Writes the status decided so far now, before a long wait, so clients see the progress (once per change). */
  flush(): Promise<void>;
}

/**
 * What an act tells the next decision. By default it could not make its write, so nothing changed: the next
 * decision is made on the same observation. `changed`: it did write, and the next decision needs a fresh look.
 */
export interface ActOutcome<Outcome> {
  outcome: Outcome;
  changed?: boolean;
}

export interface ControllerDefinition<Row extends StatusRow, Loaded extends { row: Row }, Observed, Step,
  Outcome = never> {
  kind: Kind;
  /** The table holding the kind's rows: the runtime writes their status columns, nobody else does. */
  table: StatusTable;
  load(id: string): Promise<Loaded | undefined>;
  observe(loaded: Loaded, run: RunContext): Promise<Observed>;
  /** `outcome`: what the previous act of this run could not do, if it could not. */
  decide(loaded: Loaded, observed: Observed, outcome?: Outcome): Decision<Step, Row['status']>;
  act(step: Step, loaded: Loaded, observed: Observed, run: RunContext): Promise<Result | ActOutcome<Outcome> | void>;
  /**
   * The condition that tells a client what a transient failure was (the engine retries the run with backoff), or
   * null to say nothing. The phase and observed generation are kept.
   */
  failure?(error: Error): ConditionUpdate | null;
  /**
   * Phase changes are audited by the runtime, as `<kind>.<phase>` by the controller, when the kind names its audit
   * category (and what to add to `from` and `to`).
   */
  audit?: {
    category: AuditCategory;
    podId(row: Row): string | null;
    details?(row: Row, next: ObjectStatus<Row['status']>): Record<string, unknown>;
  };
  /** In the status write's transaction, when the phase changes (lifecycle events, waking dependants). */
  onPhaseChange?(trx: Transaction<Database>, row: Row, next: ObjectStatus<Row['status']>): Promise<void>;
  /**
   * The ids the periodic resync enqueues: every object's, or, observing in bulk, only those whose observation
   * differs from their status (so a settled fleet costs no run each).
   */
  resyncIds(db: Kysely<Database>): Promise<string[]>;
  resyncEveryMs: number;
  /** Steps run back to back in one run, at most this many (a safety bound; deciding stops a run sooner). */
  maxSteps?: number;
  timeoutMs?: number;
  /** Runs of this kind at once in this process, when its queue is its own. */
  concurrency?: number;
}

export interface KitDeps {
  engine: JobEngine;
  db: Kysely<Database>;
  logger: Logger;
  registry?: Registry;
}

/** A declared controller: its run, callable directly by tests, and its kind. */
export interface Controller {
  kind: Kind;
  reconcile(id: string, context: ReconcileContext): Promise<Result>;
}

/** Builds a controller's run from its definition (without registering it: see `registerController`). */
export function buildController<Row extends StatusRow, Loaded extends { row: Row }, Observed, Step, Outcome = never>(
  deps: Pick<KitDeps, 'db' | 'logger'>, definition: ControllerDefinition<Row, Loaded, Observed, Step, Outcome>): Controller {
  const { db } = deps;
  const log = deps.logger.child({ controller: definition.kind.name });
  const maxSteps = definition.maxSteps ?? 24;
  const { audit } = definition;

  /** Writes the status when it changed; returns the row as written (or as it was). */
  async function save(row: Row, decision: Decision<unknown, Row['status']> | undefined, changes: ConditionChange[])
    : Promise<Row> {
    const next: ObjectStatus<Row['status']> = {
      status: decision?.phase ?? row.status,
      conditions: applyConditionChanges(row.conditions, changes, row.generation),
      // Every status is computed for the generation read (and written only while it is current): observed.
      observed_generation: row.generation,
    };
    if (!statusChanged(row, next)) return row;
    // A phase change and what follows from it (audit, events) commit together; anything else is one statement.
    const written = next.status !== row.status && (definition.onPhaseChange || definition.audit)
      ? await db.transaction().execute(async (trx) => {
        const landed = await writeObjectStatus(trx, definition.table, row.id, row.generation, next);
        if (!landed) return false;
        if (audit) {
          await recordAudit(trx, { actor: { type: 'controller', id: definition.kind.name }, category: audit.category,
            action: `${definition.kind.name}.${next.status}`, tenantId: row.tenant_id, podId: audit.podId(row),
            details: { from: row.status, to: next.status, ...audit.details?.(row, next) } });
        }
        await definition.onPhaseChange?.(trx, row, next);
        return true;
      })
      : await writeObjectStatus(db, definition.table, row.id, row.generation, next);
    return written ? { ...row, ...next } : row;
  }

  async function reconcile(id: string, context: ReconcileContext): Promise<Result> {
    let loaded = await definition.load(id);
    // A generation that cannot be met waits for the spec to change (a deletion bumps the generation too).
    if (!loaded || stalledReason(loaded.row)) return done();
    let changes: ConditionChange[] = [];
    let decision: Decision<Step, Row['status']> | undefined;
    let result: Result | undefined;
    let outcome: Outcome | undefined;
    /** The last decision made, for a flush in the middle of the next step. */
    let latest: Decision<Step, Row['status']> | undefined;
    const run: RunContext = {
      ...context, log, startedAt: Date.now(),
      async flush() {
        // What is written now is the base of the run's last write, which then holds only what changes after.
        loaded!.row = await save(loaded!.row, latest, changes);
        changes = [];
      },
    };
    try {
      let observed: Observed | undefined;
      for (let steps = 0; steps < maxSteps && !result; steps++) {
        observed ??= await definition.observe(loaded, run);
        decision = definition.decide(loaded, observed, outcome);
        latest = decision;
        outcome = undefined;
        changes.push(...(decision.conditions ?? []));
        if (decision.terminal || decision.step === undefined) break;
        const acted = (await definition.act(decision.step, loaded, observed, run)) ?? undefined;
        if (acted && 'outcome' in acted) {
          outcome = acted.outcome;
          decision = undefined;
          // Nothing changed: decide again on what was seen.
          if (!acted.changed) continue;
        } else {
          result = acted;
        }
        // The next decision (or the status write) starts from what the database and the world say now.
        observed = undefined;
        const reloaded = await definition.load(id);
        if (!reloaded) return done();
        loaded = reloaded;
        if (!result) decision = undefined;
      }
    } catch (thrown) {
      const error = toError(thrown);
      if (!(error instanceof TerminalError)) {
        const condition = definition.failure?.(error);
        await save(loaded.row, undefined, condition ? [...changes, condition] : changes)
          .catch((e) => log.warn({ err: e, id }, `could not record the ${definition.kind.name}'s status`));
        throw error;
      }
      decision = { ...decision, step: undefined, terminal: { reason: error.reason, message: error.message } };
    }

    if (decision?.terminal) {
      const { reason, message } = decision.terminal;
      changes.push({ type: 'Ready', status: 'False', reason, message },
        { type: stalledCondition, status: 'True', reason, message });
      await save(loaded.row, decision, changes);
      log.warn({ id, reason }, `${definition.kind.name} cannot be reconciled as specified: ${message}`);
      return { requeueAfterMs: null, terminal: reason };
    }
    if (loaded.row.conditions.some((c) => c.type === stalledCondition)) changes.push({ remove: stalledCondition });
    await save(loaded.row, decision, changes);
    if (result) return result;
    // The step bound was reached with steps left: go on in a fresh run rather than hold the worker.
    if (!decision) return requeueAfter(0);
    return decision.requeueAfterMs === null || decision.requeueAfterMs === undefined ? done()
      : requeueAfter(decision.requeueAfterMs);
  }

  return { kind: definition.kind, reconcile };
}

/**
 * Declares a controller on the job engine: its `<kind>.reconcile` task on the kind's queue and a `<kind>.resync`
 * schedule. Call before `engine.start()`.
 */
export function registerController<Row extends StatusRow, Loaded extends { row: Row }, Observed, Step, Outcome = never>(
  deps: KitDeps, definition: ControllerDefinition<Row, Loaded, Observed, Step, Outcome>): Controller {
  const controller = buildController(deps, definition);
  const { kind } = definition;
  if (definition.concurrency !== undefined) deps.engine.defineQueue(kind.queue, { concurrency: definition.concurrency });
  registerReconciler(deps, {
    kind, reconcile: controller.reconcile, listIds: definition.resyncIds,
    resyncEveryMs: definition.resyncEveryMs, ...(definition.timeoutMs ? { timeoutMs: definition.timeoutMs } : {}),
  });
  return controller;
}
