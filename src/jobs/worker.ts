import type pg from 'pg';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { decideFailure, type RetryPolicy } from './backoff.ts';
import type { GroupCompleter } from './completer.ts';
import { endRun, type EndRunContext } from './end-run.ts';
import type { JobMetrics } from './metrics.ts';
import { claimJobs, type ClaimedRow } from './sql/claim.ts';
import { releaseClaim, type RunEnd } from './sql/settle.ts';
import { PermanentJobError, ReportedJobError, type RunningJob, type TaskDefinition } from './types.ts';

/** The `service` a queue's worker logs under (system_events, the health page's filter). */
export const workerComponent = (queue: string): string => `worker:${queue}`;

/** Why a run's signal was aborted by the engine rather than by its handler. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
}
export class JobCancelledError extends Error {
  override name = 'JobCancelledError';
}
export class WorkerShutdownError extends Error {
  override name = 'WorkerShutdownError';
}

export interface QueueWorkerOptions {
  queue: string;
  workerId: string;
  workerName: string;
  concurrency: number;
  prefetch: number;
  leaseMs: number;
  defaultTimeoutMs: number;
  tasks: ReadonlyMap<string, TaskDefinition>;
  pool: pg.Pool;
  db: Kysely<Database>;
  completer: GroupCompleter;
  endRunContext: EndRunContext;
  retryPolicy: () => Promise<RetryPolicy>;
  logger: Logger;
  metrics?: JobMetrics;
}

interface ActiveRun {
  controller: AbortController;
  settled: Promise<void>;
}

/**
 * Works one queue for one process: one claim in flight at a time, sized to the free slots plus the prefetch, and
 * repeated at once while claims come back full; otherwise it waits for a wake-up (notification, poll, timer).
 */
export class QueueWorker {
  readonly #o: QueueWorkerOptions;
  readonly #buffer: ClaimedRow[] = [];
  readonly #active = new Map<number, ActiveRun>();
  #claiming = false;
  /** Bumped by every wake-up, so a wake-up arriving during a claim is not lost when that claim comes back short. */
  #wakeups = 0;
  #mayHaveMore = true;
  #draining = false;
  #claimFailures = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  constructor(options: QueueWorkerOptions) {
    this.#o = options;
  }

  get queue(): string {
    return this.#o.queue;
  }

  get workerId(): string {
    return this.#o.workerId;
  }

  /** Something may be due now: claim if there is room. */
  wake(): void {
    this.#wakeups++;
    this.#mayHaveMore = true;
    this.#claim();
  }

  /** A job becomes due at `at` (epoch ms): wake then, keeping only the earliest timer. */
  wakeAt(at: number): void {
    if (at >= this.#timerAt || this.#draining) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => { this.#timerAt = Infinity; this.wake(); }, Math.max(0, at - Date.now()) + 1);
    this.#timer.unref();
  }

  /** Aborts the handler of a job this worker is running (an admin cancelled it). */
  abort(jobId: number, reason: Error): boolean {
    const run = this.#active.get(jobId);
    run?.controller.abort(reason);
    return run !== undefined;
  }

  #claim(): void {
    if (this.#claiming || this.#draining || !this.#mayHaveMore) return;
    const { concurrency, prefetch } = this.#o;
    const want = concurrency + prefetch - this.#active.size - this.#buffer.length;
    // With jobs still buffered, wait until a batch worth claiming is free rather than claiming one at a time.
    if (want <= 0 || (this.#buffer.length > 0 && want < Math.max(1, prefetch / 2))) return;
    this.#claiming = true;
    const wakeups = this.#wakeups;
    claimJobs(this.#o.pool, { queue: this.#o.queue, limit: want, workerId: this.#o.workerId, leaseMs: this.#o.leaseMs })
      .then((rows) => {
        this.#claimFailures = 0;
        this.#mayHaveMore = rows.length === want || wakeups !== this.#wakeups;
        this.#buffer.push(...rows);
        this.#claiming = false;
        this.#pump();
        this.#claim();
      }, (error) => {
        this.#claiming = false;
        const delay = Math.min(5_000, 100 * 2 ** this.#claimFailures++);
        this.#o.logger.warn({ err: error, queue: this.#o.queue, retryInMs: delay }, 'could not claim jobs');
        this.wakeAt(Date.now() + delay);
      });
  }

  #pump(): void {
    while (this.#active.size < this.#o.concurrency && this.#buffer.length > 0 && !this.#draining) {
      this.#start(this.#buffer.shift()!);
    }
  }

  #start(row: ClaimedRow): void {
    const { queue, tasks, defaultTimeoutMs } = this.#o;
    const startedAt = new Date();
    this.#o.metrics?.pickedUp(queue, Math.max(0, startedAt.getTime() - row.scheduled_at.getTime()) / 1000);
    const controller = new AbortController();
    const task = tasks.get(row.type);
    const job: RunningJob = {
      id: row.id, queue, type: row.type, payload: row.payload, key: row.key, attempt: row.attempts,
      maxAttempts: row.max_attempts, priority: row.priority, scheduledAt: row.scheduled_at,
    };
    const timeoutMs = task?.timeoutMs ?? defaultTimeoutMs;
    const timer = setTimeout(() => controller.abort(new JobTimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const settled = this.#run(job, task, controller.signal, startedAt).finally(() => {
      clearTimeout(timer);
      this.#active.delete(row.id);
      this.#pump();
      this.#claim();
    });
    this.#active.set(row.id, { controller, settled });
  }

  async #run(job: RunningJob, task: TaskDefinition | undefined, signal: AbortSignal, startedAt: Date): Promise<void> {
    let failure: unknown;
    try {
      if (!task) throw new Error(`no handler for job type ${job.type} in queue ${job.queue} in this process`);
      await untilSettledOrAborted(task.handler(job, { signal }), signal);
    } catch (error) {
      failure = error;
    }
    this.#o.metrics?.ran(job.queue, job.type, (Date.now() - startedAt.getTime()) / 1000);
    const fence = { id: job.id, attempt: job.attempt, workerId: this.#o.workerId };
    if (failure === undefined) {
      this.#o.completer.add({ ...fence, workerName: this.#o.workerName, startedAt, queue: job.queue, type: job.type });
      return;
    }
    try {
      await this.#fail(job, failure, startedAt);
    } catch (error) {
      // The job stays running in the database; the reaper hands it to another worker once this one is stale.
      this.#o.logger.error({ err: error, jobId: job.id }, 'could not record a failed job run');
    }
  }

  async #fail(job: RunningJob, failure: unknown, startedAt: Date): Promise<void> {
    const error = failure instanceof Error ? failure : new Error(String(failure));
    const fence = { id: job.id, attempt: job.attempt, workerId: this.#o.workerId };
    const run = { queue: job.queue, type: job.type, workerName: this.#o.workerName, startedAt,
      error: `${error.name}: ${error.message}` };
    if (error instanceof WorkerShutdownError || error instanceof JobCancelledError) {
      // Not the job's fault: a shutdown hands it back at once; a cancel has already ended it (fencing rejects this).
      await endRun(this.#o.endRunContext, fence, { ...run, outcome: 'cancelled' },
        { status: 'pending', retryAt: new Date() });
      return;
    }
    const decision = decideFailure(job.attempt, job.maxAttempts, error instanceof PermanentJobError,
      await this.#o.retryPolicy());
    const end: RunEnd = decision.kind === 'retry'
      ? { status: 'pending', retryAt: new Date(Date.now() + decision.delayMs) } : { status: decision.kind };
    await endRun(this.#o.endRunContext, fence, { ...run, outcome: decision.kind === 'dead' ? 'dead' : 'failed',
      reported: error instanceof ReportedJobError }, end);
  }

  /**
   * After the database came back from a restart: a claim or completion committed asynchronously may have been
   * lost, leaving jobs running in the database that this worker does not run. They go back to pending now rather
   * than waiting for their lease to expire.
   */
  async handBackForgottenRuns(): Promise<void> {
    const held = await this.#o.db.selectFrom('jobs').select(['id', 'attempts', 'type', 'started_at'])
      .where('locked_by', '=', this.#o.workerId).where('status', '=', 'running').execute();
    for (const row of held) {
      if (this.#active.has(row.id) || this.#buffer.some((b) => b.id === row.id) || this.#o.completer.holds(row.id)) {
        continue;
      }
      await endRun(this.#o.endRunContext, { id: row.id, attempt: row.attempts, workerId: this.#o.workerId },
        { queue: this.#o.queue, type: row.type, workerName: this.#o.workerName, startedAt: row.started_at ?? new Date(),
          outcome: 'rescued', error: 'rescued: its run was lost when the database restarted' },
        { status: 'pending', retryAt: new Date() });
    }
  }

  /**
   * Stops claiming, hands back the claimed jobs that have not started, lets running ones finish until the deadline,
   * then aborts the rest (they go back to pending at once) and waits for them to be recorded.
   */
  async drain(deadline: number): Promise<void> {
    this.#draining = true;
    clearTimeout(this.#timer);
    const unstarted = this.#buffer.splice(0);
    for (const row of unstarted) {
      await this.#o.db.transaction()
        .execute((trx) => releaseClaim(trx, { id: row.id, attempt: row.attempts, workerId: this.#o.workerId }))
        .catch((error) => this.#o.logger.warn({ err: error, jobId: row.id }, 'could not hand back a claimed job'));
    }
    const running = () => Promise.all([...this.#active.values()].map((r) => r.settled));
    const remaining = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      running().then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), Math.max(0, remaining)); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const reason = new WorkerShutdownError('worker shut down before the job finished');
      for (const run of this.#active.values()) run.controller.abort(reason);
      await running();
    }
  }
}

/** The handler's promise, or a rejection with the signal's reason as soon as it aborts (handlers may ignore it). */
function untilSettledOrAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => { signal.removeEventListener('abort', onAbort); resolve(); },
      (error) => { signal.removeEventListener('abort', onAbort); reject(error); },
    );
  });
}
