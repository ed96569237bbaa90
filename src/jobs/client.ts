import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobMetrics } from './metrics.ts';
import { retrySettingNames, type NumberSettings } from './policy.ts';
import { insertJob, insertJobs, type EnqueuedJob, type ResolvedJobSpec } from './sql/enqueue.ts';
import type { JobSpec } from './types.ts';

/**
 * Enqueues jobs, filling in what settings decide (max attempts per queue). Pass the transaction that writes the
 * desired state: the job, and its wake-up notification, exist only if that transaction commits.
 */
export class JobClient {
  readonly #settings: NumberSettings;
  readonly #metrics: JobMetrics | undefined;

  constructor(settings: NumberSettings, metrics?: JobMetrics) {
    this.#settings = settings;
    this.#metrics = metrics;
  }

  async enqueue(db: Kysely<Database>, spec: JobSpec): Promise<EnqueuedJob> {
    const job = await insertJob(db, await this.#resolve(spec, new Map()));
    this.#metrics?.enqueued(spec.queue, spec.type);
    return job;
  }

  /** Many jobs in one statement; keyed specs sharing a (queue, key) merge. */
  async enqueueMany(db: Kysely<Database>, specs: readonly JobSpec[]): Promise<number[]> {
    const cache = new Map<string, number>();
    const resolved: ResolvedJobSpec[] = [];
    for (const spec of specs) resolved.push(await this.#resolve(spec, cache));
    const ids = await insertJobs(db, resolved);
    for (const spec of specs) this.#metrics?.enqueued(spec.queue, spec.type);
    return ids;
  }

  /** Max attempts of a queue, read from settings. */
  maxAttempts(queue: string): Promise<number> {
    return this.#settings.getNumber(retrySettingNames(queue).maxAttempts);
  }

  async #resolve(spec: JobSpec, cache: Map<string, number>): Promise<ResolvedJobSpec> {
    if (spec.maxAttempts !== undefined) return spec as ResolvedJobSpec;
    let maxAttempts = cache.get(spec.queue);
    if (maxAttempts === undefined) cache.set(spec.queue, maxAttempts = await this.maxAttempts(spec.queue));
    return { ...spec, maxAttempts };
  }
}
