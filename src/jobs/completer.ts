import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { JobMetrics } from './metrics.ts';
import { completeJobs, type Completion } from './sql/complete.ts';

export interface FinishedRun extends Completion {
  queue: string;
  type: string;
}

/**
 * Group commit of completions: at most one completion statement in flight per process, and whatever finishes
 * meanwhile joins the next. No timer, so a lone job is committed at once; under load, batches grow by themselves.
 * A statement that fails (database unreachable) is retried with the same runs: their jobs stay running meanwhile,
 * and if the outage outlasts the worker timeout they are rescued and run again (at-least-once).
 */
export class GroupCompleter {
  readonly #pool: pg.Pool;
  readonly #logger: Logger;
  readonly #metrics: JobMetrics | undefined;
  #waiting: FinishedRun[] = [];
  /** Ids added and not yet committed or rejected. */
  readonly #unsettled = new Set<number>();
  #flushing: Promise<void> | undefined;
  #failures = 0;

  constructor(pool: pg.Pool, logger: Logger, metrics?: JobMetrics) {
    this.#pool = pool;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  add(run: FinishedRun): void {
    this.#waiting.push(run);
    this.#unsettled.add(run.id);
    this.#flushing ??= this.#flush().finally(() => { this.#flushing = undefined; });
  }

  /** Whether a completion of this job is waiting to be committed. */
  holds(jobId: number): boolean {
    return this.#unsettled.has(jobId);
  }

  /** Resolves once every completion added so far has been committed (or rejected). */
  async settled(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      let accepted: Set<number>;
      try {
        accepted = await completeJobs(this.#pool, batch);
        this.#failures = 0;
      } catch (error) {
        this.#waiting = batch.concat(this.#waiting);
        const delay = Math.min(5_000, 100 * 2 ** this.#failures++);
        this.#logger.warn({ err: error, runs: batch.length, retryInMs: delay }, 'could not record completed jobs; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      for (const run of batch) {
        this.#unsettled.delete(run.id);
        if (accepted.has(run.id)) {
          this.#metrics?.completed(run.queue, run.type);
        } else {
          this.#metrics?.rejected(run.queue);
          this.#logger.warn({ jobId: run.id, attempt: run.attempt, type: run.type, queue: run.queue },
            'completion rejected: the job was rescued or cancelled while this worker ran it');
        }
      }
    }
  }
}
