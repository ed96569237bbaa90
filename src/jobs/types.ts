import type { Kysely } from 'kysely';
import type { Database, JsonObject } from '../db/schema.ts';
import type { Cadence } from './cron.ts';

/** The queues of spec 6; controllers may register more. */
export const builtInQueues = ['cloudpods', 'metrics', 'health', 'backups', 'webhooks', 'maintenance'] as const;

/** Notification channel of the job engine; the payload is `<queue>` or `<queue> <epoch ms>` for a future job. */
export const jobsChannel = 'cloudpods_jobs';
/** Notification channel telling the worker running a job that an admin cancelled it; the payload is the job id. */
export const jobCancelChannel = 'cloudpods_jobs_cancel';

/** A job to enqueue. */
export interface JobSpec {
  queue: string;
  type: string;
  /** A hint for the handler; reconcile handlers re-read the object instead of trusting it. */
  payload?: JsonObject;
  /**
   * Work-queue key such as `pod:<id>`: at most one pending and one running job per (queue, key). Enqueueing a key
   * already pending merges into that job (earliest time, highest priority, newest payload).
   */
  key?: string | null;
  /** Higher runs sooner. */
  priority?: number;
  /** Not before this time (requeueAfter); default now. */
  runAt?: Date;
  /** Default: the queue's setting (`jobs.max_attempts`, or `cloudpods.webhooks.max_attempts` for webhooks). */
  maxAttempts?: number;
}

/** A job as its handler sees it. */
export interface RunningJob {
  id: number;
  queue: string;
  type: string;
  payload: JsonObject;
  key: string | null;
  /** This run's number, 1 for the first. */
  attempt: number;
  maxAttempts: number;
  priority: number;
  scheduledAt: Date;
}

export interface JobContext {
  /** Aborted when the type's timeout passes, an admin cancels the job, or shutdown's deadline passes. */
  signal: AbortSignal;
}

export type JobHandler = (job: RunningJob, context: JobContext) => Promise<void>;

/** A job type: its handler and how it runs. */
export interface TaskDefinition {
  type: string;
  queue: string;
  handler: JobHandler;
  /** Default: `jobs.default_timeout_seconds`. */
  timeoutMs?: number;
  /** A dead job of a critical type is also written to the audit (category `job`). */
  critical?: boolean;
  /**
   * Keeps a record of the type's own (a delivery ledger) in step with what its handler could not report: called in
   * the transaction that changes the job's status when the engine ends it for good without its handler having
   * reported the failure (a timeout, a crash past its last attempt, an error that is no ReportedJobError), when an
   * admin cancels it, and when an admin retries it.
   */
  onStatusChange?: JobStatusListener;
}

/** A job's status changed outside a run whose handler reported it (TaskDefinition.onStatusChange). */
export interface JobStatusChange {
  jobId: number;
  queue: string;
  type: string;
  /** `pending`: an admin retries it; `failed` or `dead`: it has ended for good. */
  status: 'pending' | 'failed' | 'dead';
  /** Attempts made so far. */
  attempts: number;
  /** Why it ended; null for a retry. */
  error: string | null;
}

/** Called in the transaction that changes a job's status (TaskDefinition.onStatusChange, JobEngine.statusChanged). */
export type JobStatusListener = (trx: Kysely<Database>, change: JobStatusChange) => Promise<void>;

/** How one process works a queue. */
export interface QueueOptions {
  /** Jobs run at once by this process; default `jobs.default_concurrency`. */
  concurrency?: number;
  /**
   * Jobs claimed beyond the free slots and held locally, for bulk queues of short jobs. Keep 0 (the default) for
   * reconcile and priority queues: a prefetched job waits behind the running ones and cannot be taken by others.
   */
  prefetch?: number;
}

/** A recurring job, enqueued once per tick however many processes run the schedule. */
export interface ScheduleDefinition {
  /** Unique name; part of each tick's job key `schedule:<name>:<tick ISO time>`. */
  name: string;
  queue: string;
  type: string;
  payload?: JsonObject;
  cadence: Cadence;
  priority?: number;
}

/** Thrown by a handler when retrying cannot help: the job ends `failed` at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/**
 * Thrown by a handler for a failure that lies outside the platform and that the handler has already reported to
 * whom it concerns (a tenant's unreachable webhook: its hook's LastDelivery, and a warning when it gives up). It is
 * retried as any failure, but when it ends the job dead the engine logs that at info, not as an error: the
 * admin's health page is for the platform's problems.
 */
export class ReportedJobError extends Error {
  override name = 'ReportedJobError';
}
