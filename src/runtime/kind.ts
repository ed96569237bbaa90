import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobSpec } from '../jobs/types.ts';

/** What enqueues: the JobEngine, or a JobClient where no engine runs (both have these methods). */
export interface Enqueuer {
  enqueue(db: Kysely<Database>, spec: JobSpec): Promise<unknown>;
  enqueueMany(db: Kysely<Database>, specs: readonly JobSpec[]): Promise<unknown>;
}

/**
 * A reconciled kind, declared once: its name, its queue and the job its reconciles run as. Orders, bridges and
 * controllers enqueue it through this handle, never through literal `<kind>.reconcile` strings, so a kind moved to
 * another queue moves everywhere at once.
 */
export interface Kind {
  readonly name: string;
  readonly queue: string;
  /** `<name>.reconcile` */
  readonly jobType: string;
  /** The work-queue key of one object: at most one pending and one running reconcile per key. */
  key(id: string): string;
  /** The job that reconciles one object, optionally not before `runAt`. */
  job(id: string, runAt?: Date): JobSpec;
  /**
   * Asks for reconciles. Pass the transaction that changed the desired state: the requests commit with it (or not
   * at all). Requests for a key already pending merge into one.
   */
  enqueue(enqueuer: Enqueuer, db: Kysely<Database>, ids: string | readonly string[], options?: { runAt?: Date }): Promise<void>;
}

export function defineKind(name: string, queue = 'cloudpods'): Kind {
  const jobType = `${name}.reconcile`;
  const key = (id: string) => `${name}:${id}`;
  const job = (id: string, runAt?: Date): JobSpec => ({ queue, type: jobType, key: key(id), payload: { id },
    ...(runAt ? { runAt } : {}) });
  return {
    name, queue, jobType, key, job,
    async enqueue(enqueuer, db, ids, options = {}) {
      const list = typeof ids === 'string' ? [ids] : ids;
      if (list.length === 1) await enqueuer.enqueue(db, job(list[0]!, options.runAt));
      else if (list.length > 1) await enqueuer.enqueueMany(db, list.map((id) => job(id, options.runAt)));
    },
  };
}
