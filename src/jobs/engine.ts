import os from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { guardPoolClients } from '../db/database.ts';
import type { Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { NotificationListener } from '../db/listener.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import { JobClient } from './client.ts';
import { GroupCompleter } from './completer.ts';
import type { EndRunContext } from './end-run.ts';
import { JobMetrics } from './metrics.ts';
import { retryPolicyFor, type NumberSettings } from './policy.ts';
import { reapAbandonedRuns } from './reaper.ts';
import { Scheduler } from './scheduler.ts';
import type { EnqueuedJob } from './sql/enqueue.ts';
import { heartbeatWorkers, registerWorkers } from './sql/workers.ts';
import { jobCancelChannel, jobsChannel, type JobSpec, type JobStatusChange, type QueueOptions,
  type ScheduleDefinition, type TaskDefinition } from './types.ts';
import { JobCancelledError, QueueWorker, workerComponent } from './worker.ts';

export interface JobEngineOptions {
  db: Kysely<Database>;
  /** For the engine's own connections: the LISTEN connection and a small pool for the claim and completion. */
  databaseUrl: string;
  logger: Logger;
  settings: NumberSettings;
  registry?: Registry;
  /** Shown in job_workers; default `<hostname>:<pid>:<random>`. */
  name?: string;
  /**
   * Commit claims and completions without waiting for the WAL flush (default true). A database crash can then
   * forget the last few milliseconds of them: such jobs run again, which at-least-once delivery already allows
   * (handlers are idempotent), and after the restart each worker hands back runs it no longer holds. Enqueues
   * (the caller's transaction), failures, rescues and admin actions always commit durably.
   */
  asyncHotPathCommit?: boolean;
}

/**
 * The job engine of one process (spec 6): task, queue and schedule registrations, a worker per queue that has
 * tasks, heartbeats, the reaper of abandoned runs, the scheduler, and a clean drain on stop.
 *
 *   const engine = new JobEngine({ db, databaseUrl, logger, settings });
 *   engine.defineTask({ queue: 'cloudpods', type: 'pod.reconcile', handler });
 *   await engine.start();
 *   await engine.enqueue(trx, { queue: 'cloudpods', type: 'pod.reconcile', key: `pod:${id}` });
 */
export class JobEngine {
  readonly name: string;
  readonly client: JobClient;
  readonly metrics: JobMetrics | undefined;
  readonly #o: JobEngineOptions;
  /** The engine's own lines (start and stop, heartbeats, the reaper); each queue's worker logs as `worker:<queue>`. */
  readonly #log: Logger;
  readonly #tasks = new Map<string, Map<string, TaskDefinition>>();
  readonly #queueOptions = new Map<string, QueueOptions>();
  readonly #schedules: ScheduleDefinition[] = [];
  readonly #workers = new Map<string, QueueWorker>();
  #workerIds: string[] = [];
  #pool: pg.Pool | undefined;
  #listener: NotificationListener | undefined;
  #scheduler: Scheduler | undefined;
  #completer: GroupCompleter | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #status: 'online' | 'draining' = 'online';
  #stopping: Promise<void> | undefined;
  #started = false;
  #stopped = false;
  #listenerConnections = 0;

  constructor(options: JobEngineOptions) {
    this.#o = options;
    this.#log = componentLogger(options.logger, 'jobs');
    this.name = options.name ?? `${os.hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;
    this.metrics = options.registry ? new JobMetrics(options.registry, options.db) : undefined;
    this.client = new JobClient(options.settings, this.metrics);
  }

  defineTask(task: TaskDefinition): this {
    const byType = this.#tasks.get(task.queue) ?? new Map<string, TaskDefinition>();
    if (byType.has(task.type)) throw new Error(`job type ${task.type} is already defined in queue ${task.queue}`);
    this.#tasks.set(task.queue, byType.set(task.type, task));
    return this;
  }

  /** Whether this process has a handler for the job type (work of an undefined type would only fail). */
  handles(queue: string, type: string): boolean {
    return this.#tasks.get(queue)?.has(type) ?? false;
  }

  defineQueue(queue: string, options: QueueOptions): this {
    this.#queueOptions.set(queue, options);
    return this;
  }

  defineSchedule(schedule: ScheduleDefinition): this {
    if (this.#schedules.some((s) => s.name === schedule.name)) throw new Error(`schedule ${schedule.name} is already defined`);
    this.#schedules.push(schedule);
    return this;
  }

  enqueue(db: Kysely<Database>, spec: JobSpec): Promise<EnqueuedJob> {
    return this.client.enqueue(db, spec);
  }

  enqueueMany(db: Kysely<Database>, specs: readonly JobSpec[]): Promise<number[]> {
    return this.client.enqueueMany(db, specs);
  }

  /**
   * Tells the job's type that its job changed status outside a run of its handler (an admin's retry or cancel, the
   * engine ending it): its `onStatusChange`, in the caller's transaction, the one that changes the job.
   */
  async statusChanged(trx: Kysely<Database>, change: JobStatusChange): Promise<void> {
    await this.#tasks.get(change.queue)?.get(change.type)?.onStatusChange?.(trx, change);
  }

  /** The schedules defined, with their cadence. */
  get schedules(): ReadonlyArray<Pick<ScheduleDefinition, 'name' | 'queue' | 'type' | 'cadence'>> {
    return this.#schedules.map(({ name, queue, type, cadence }) => ({ name, queue, type, cadence }));
  }

  /** Worker ids (job_workers.id) by queue, once started. */
  get workerIds(): ReadonlyMap<string, string> {
    return new Map([...this.#workers].map(([queue, worker]) => [queue, worker.workerId]));
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('the job engine was already started');
    this.#started = true;
    const { db, settings } = this.#o;
    const logger = this.#log;
    const setting = (name: string) => settings.getNumber(`jobs.${name}`);
    const [defaultConcurrency, defaultTimeoutSeconds, workerTimeoutSeconds] = await Promise.all([
      setting('default_concurrency'), setting('default_timeout_seconds'), setting('worker_timeout_seconds')]);

    const queues = [...this.#tasks.keys()];
    const concurrencyOf = (queue: string) => this.#queueOptions.get(queue)?.concurrency ?? defaultConcurrency;
    // Claim and completion each hold one connection; a third covers drains and overlap.
    this.#pool = new pg.Pool({ connectionString: this.#o.databaseUrl, max: 3, application_name: 'cloudpods-jobs',
      options: (this.#o.asyncHotPathCommit ?? true) ? '-c synchronous_commit=off' : undefined });
    guardPoolClients(this.#pool, (error) => logger.warn({ err: error }, 'job engine connection lost; reconnecting'));
    this.#completer = new GroupCompleter(this.#pool, logger, this.metrics);
    const registered = await registerWorkers(db, queues.map((queue) => ({
      name: `${this.name}/${queue}`, queue, hostname: os.hostname(), pid: process.pid, concurrency: concurrencyOf(queue),
    })));
    this.#workerIds = registered.map((r) => r.id);
    const endRunContext = this.#endRunContext();
    for (const { id, queue } of registered) {
      const tasks = this.#tasks.get(queue)!;
      const workerLogger = componentLogger(this.#o.logger, workerComponent(queue));
      const longestTimeoutMs = Math.max(...[...tasks.values()].map((t) => t.timeoutMs ?? defaultTimeoutSeconds * 1000));
      this.#workers.set(queue, new QueueWorker({
        queue, workerId: id, workerName: `${this.name}/${queue}`, concurrency: concurrencyOf(queue),
        prefetch: this.#queueOptions.get(queue)?.prefetch ?? 0,
        // Past its lease a run is presumed lost even if its worker still sends heartbeats (a wedged handler).
        leaseMs: longestTimeoutMs + 2 * workerTimeoutSeconds * 1000 + 60_000,
        defaultTimeoutMs: defaultTimeoutSeconds * 1000, tasks, pool: this.#pool, db, completer: this.#completer,
        endRunContext: { ...endRunContext, logger: workerLogger }, retryPolicy: () => retryPolicyFor(settings, queue),
        logger: workerLogger, metrics: this.metrics,
      }));
    }

    this.#listener = new NotificationListener({
      url: this.#o.databaseUrl, channels: [jobsChannel, jobCancelChannel], logger,
      onNotification: (channel, payload) => this.#onNotification(channel, payload),
      onConnected: () => {
        // Anything may have been enqueued while the listener was away, and a restarted database may have lost
        // the last asynchronously committed claims and completions.
        if (this.#listenerConnections++ > 0) {
          for (const worker of this.#workers.values()) {
            worker.handBackForgottenRuns().catch((error) => logger.warn({ err: error }, 'could not check held runs'));
          }
        }
        this.#wakeAll();
      },
    });
    await this.#listener.start().catch((error) => {
      logger.warn({ err: error }, 'job listener could not connect yet; polling until it does');
    });
    this.#scheduler = new Scheduler(db, this.client, componentLogger(this.#o.logger, 'scheduler'));
    this.#scheduler.start(this.#schedules);
    this.#pollLoop();
    this.#heartbeatLoop();
    this.#wakeAll();
    logger.info({ event: true, engine: this.name, queues, schedules: this.#schedules.map((s) => s.name) },
      'job engine started');
  }

  /**
   * Drains: workers go `draining` and stop claiming, claimed jobs not yet started are handed back, running ones may
   * finish until `jobs.shutdown_timeout_seconds` (then they are aborted and handed back), completions are flushed,
   * and the workers go `offline`.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (!this.#started) return;
    const { db, settings } = this.#o;
    const logger = this.#log;
    this.#status = 'draining';
    this.#scheduler?.stop();
    clearTimeout(this.#poll);
    await heartbeatWorkers(db, this.#workerIds, 'draining').catch(() => {});
    const deadline = Date.now() + (await settings.getNumber('jobs.shutdown_timeout_seconds').catch(() => 25)) * 1000;
    await Promise.all([...this.#workers.values()].map((worker) => worker.drain(deadline)));
    await this.#completer?.settled();
    this.#stopped = true;
    clearTimeout(this.#heartbeat);
    await db.updateTable('job_workers').where('id', 'in', this.#workerIds.length ? this.#workerIds : [''])
      .set({ status: 'offline' }).execute()
      .catch((error) => logger.warn({ err: error }, 'could not mark job workers offline'));
    await this.#listener?.stop();
    await this.#pool?.end();
    logger.info({ event: true, engine: this.name }, 'job engine stopped');
  }

  #endRunContext(): EndRunContext {
    return {
      db: this.#o.db, logger: this.#log, metrics: this.metrics,
      isCritical: (type) => [...this.#tasks.values()].some((byType) => byType.get(type)?.critical === true),
      statusChanged: (trx, change) => this.statusChanged(trx, change),
    };
  }

  #onNotification(channel: string, payload: string): void {
    if (channel === jobCancelChannel) {
      const id = Number(payload);
      for (const worker of this.#workers.values()) worker.abort(id, new JobCancelledError('cancelled by an admin'));
      return;
    }
    const [queue, at] = payload.split(' ');
    const worker = this.#workers.get(queue ?? '');
    if (!worker) return;
    if (at) worker.wakeAt(Number(at));
    else worker.wake();
  }

  #wakeAll(): void {
    for (const worker of this.#workers.values()) worker.wake();
  }

  /** The safety net for missed notifications: every poll interval, with jitter so replicas do not poll in step. */
  #pollLoop(): void {
    if (this.#status !== 'online') return;
    void this.#o.settings.getNumber('jobs.poll_interval_ms').catch(() => 1000).then((ms) => {
      if (this.#status !== 'online') return;
      this.#poll = setTimeout(() => { this.#wakeAll(); this.#pollLoop(); }, ms * (0.8 + 0.4 * Math.random()));
      this.#poll.unref();
    });
  }

  /** Heartbeats of this process's workers, then a reaper pass over every process's abandoned runs. */
  #heartbeatLoop(): void {
    const { db, settings } = this.#o;
    const logger = this.#log;
    const beat = async () => {
      const [intervalSeconds, timeoutSeconds] = await Promise.all([
        settings.getNumber('jobs.heartbeat_interval_seconds'), settings.getNumber('jobs.worker_timeout_seconds')]);
      try {
        await heartbeatWorkers(db, this.#workerIds, this.#status);
        if (this.#status === 'online') await reapAbandonedRuns(db, this.#endRunContext(), timeoutSeconds * 1000, logger);
      } catch (error) {
        logger.warn({ err: error }, 'job heartbeat or reaper pass failed');
      }
      return intervalSeconds * 1000;
    };
    const loop = () => {
      void beat().catch(() => 5_000).then((ms) => {
        if (this.#stopped) return;
        this.#heartbeat = setTimeout(loop, ms);
        this.#heartbeat.unref();
      });
    };
    loop();
  }
}
