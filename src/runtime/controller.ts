import type { Kysely } from 'kysely';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Database } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';
import type { Logger } from '../observability/logger.ts';
import { errorReason, TerminalError, toError } from './errors.ts';
import type { Kind } from './kind.ts';
import type { Result } from './result.ts';

export interface ReconcileContext {
  /** Aborted when the job's timeout passes or the process shuts down. */
  signal: AbortSignal;
  /** This run's attempt number for the key (1 after a success): reconcilers may report repeated failure. */
  attempt: number;
}

/** One kind's reconciler: level-triggered, so it gets only the object's id and re-reads everything itself. */
export interface ReconcilerDefinition {
  /** The kind's handle: its queue, its `<kind>.reconcile` job type and `<kind>:<id>` key. */
  kind: Kind;
  reconcile: (id: string, context: ReconcileContext) => Promise<Result>;
  /** Every object's id, for the periodic resync. */
  listIds: (db: Kysely<Database>) => Promise<string[]>;
  /** How often every object is looked at even when nothing asked for it (drift, missed events). */
  resyncEveryMs: number;
  /** Longest a single reconcile may run. */
  timeoutMs?: number;
}

export interface ReconcileMetrics {
  total: Counter<'kind' | 'result'>;
  duration: Histogram<'kind'>;
  errors: Counter<'kind' | 'reason'>;
}

const metricsByRegistry = new WeakMap<Registry, ReconcileMetrics>();

/** One set of reconcile metrics per registry, labelled by kind, shared by every controller of the process. */
export function reconcileMetrics(registry: Registry): ReconcileMetrics {
  let metrics = metricsByRegistry.get(registry);
  if (!metrics) {
    metrics = {
      total: new Counter({ name: 'cloudpods_reconcile_total', labelNames: ['kind', 'result'], registers: [registry],
        help: 'Reconciles by kind and result: done, requeue, terminal or error.' }),
      duration: new Histogram({ name: 'cloudpods_reconcile_duration_seconds', labelNames: ['kind'], registers: [registry],
        help: 'Time one reconcile took, by kind.', buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] }),
      errors: new Counter({ name: 'cloudpods_reconcile_errors_total', labelNames: ['kind', 'reason'], registers: [registry],
        help: 'Failed reconciles by kind and error class (TerminalError:<reason> for terminal ones).' }),
    };
    metricsByRegistry.set(registry, metrics);
  }
  return metrics;
}

export interface ControllerDeps {
  engine: JobEngine;
  db: Kysely<Database>;
  logger: Logger;
  registry?: Registry;
}

/**
 * Registers a reconciler on the job engine: the `<kind>.reconcile` task, and a `<kind>.resync` schedule that
 * enqueues every object. A returned `requeueAfterMs` becomes a future job for the key; a TerminalError ends the
 * run (the reconciler has recorded its condition); anything else is rethrown so the engine retries with backoff.
 */
export function registerReconciler(deps: ControllerDeps, definition: ReconcilerDefinition): void {
  const { engine, db, logger } = deps;
  const { kind: handle } = definition;
  const { name: kind, queue } = handle;
  const metrics = deps.registry ? reconcileMetrics(deps.registry) : undefined;
  const log = logger.child({ controller: kind });

  engine.defineTask({
    queue,
    type: handle.jobType,
    ...(definition.timeoutMs ? { timeoutMs: definition.timeoutMs } : {}),
    handler: async (job, { signal }) => {
      const id = String(job.payload.id ?? job.key?.slice(kind.length + 1) ?? '');
      const stopTimer = metrics?.duration.startTimer({ kind });
      try {
        const result = await definition.reconcile(id, { signal, attempt: job.attempt });
        if (result.terminal !== undefined) {
          metrics?.errors.inc({ kind, reason: `TerminalError:${result.terminal}` });
          metrics?.total.inc({ kind, result: 'terminal' });
        } else if (result.requeueAfterMs !== null) {
          await handle.enqueue(engine, db, id, { runAt: new Date(Date.now() + result.requeueAfterMs) });
          metrics?.total.inc({ kind, result: 'requeue' });
        } else {
          metrics?.total.inc({ kind, result: 'done' });
        }
      } catch (thrown) {
        const error = toError(thrown);
        metrics?.errors.inc({ kind, reason: errorReason(error) });
        if (error instanceof TerminalError) {
          metrics?.total.inc({ kind, result: 'terminal' });
          log.warn({ id, reason: error.reason, err: error }, `${kind} cannot be reconciled as specified`);
          return;
        }
        metrics?.total.inc({ kind, result: 'error' });
        log.warn({ id, attempt: job.attempt, err: error }, `${kind} reconcile failed; it will be retried`);
        throw error;
      } finally {
        stopTimer?.();
      }
    },
  });

  engine.defineTask({
    queue,
    type: `${kind}.resync`,
    handler: async () => {
      await handle.enqueue(engine, db, await definition.listIds(db));
    },
  });
  engine.defineSchedule({ name: `${kind}.resync`, queue, type: `${kind}.resync`,
    cadence: { everyMs: definition.resyncEveryMs } });
}
