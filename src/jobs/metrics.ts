import { sql, type Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Database } from '../db/schema.ts';

type Child = { inc(n?: number): void };
type Observer = { observe(v: number): void };

/**
 * The engine's Prometheus metrics. Children are cached per label set: at tens of thousands of jobs a second,
 * prom-client's label hashing per call would show in the profile.
 */
export class JobMetrics {
  readonly #enqueued: Counter<'queue' | 'type'>;
  readonly #completed: Counter<'queue' | 'type'>;
  readonly #failed: Counter<'queue' | 'type'>;
  readonly #dead: Counter<'queue' | 'type'>;
  readonly #rescued: Counter<'queue'>;
  readonly #rejected: Counter<'queue'>;
  readonly #duration: Histogram<'queue' | 'type'>;
  readonly #pickup: Histogram<'queue'>;
  readonly #children = new Map<string, Child | Observer>();

  constructor(registry: Registry, db: Kysely<Database>) {
    const registers = [registry];
    const byType = ['queue', 'type'] as const;
    this.#enqueued = new Counter({ name: 'cloudpods_jobs_enqueued_total', labelNames: byType, registers,
      help: 'Jobs enqueued by this process (a keyed enqueue merged into a pending job counts too).' });
    this.#completed = new Counter({ name: 'cloudpods_jobs_completed_total', labelNames: byType, registers,
      help: 'Job runs that completed.' });
    this.#failed = new Counter({ name: 'cloudpods_jobs_failed_total', labelNames: byType, registers,
      help: 'Job runs that failed (retried later, or ended failed by a permanent error or a timeout of the last attempt).' });
    this.#dead = new Counter({ name: 'cloudpods_jobs_dead_total', labelNames: byType, registers,
      help: 'Jobs given up after their last attempt failed.' });
    this.#rescued = new Counter({ name: 'cloudpods_jobs_rescued_total', labelNames: ['queue'], registers,
      help: 'Running jobs taken back from workers that stopped sending heartbeats, or whose lease expired.' });
    this.#rejected = new Counter({ name: 'cloudpods_jobs_completions_rejected_total', labelNames: ['queue'], registers,
      help: 'Completions refused by fencing: the job had been rescued or cancelled while this worker ran it.' });
    this.#duration = new Histogram({ name: 'cloudpods_job_run_duration_seconds', labelNames: byType, registers,
      help: 'Time a job handler ran, by queue and type, whatever the outcome.',
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300] });
    this.#pickup = new Histogram({ name: 'cloudpods_job_pickup_latency_seconds', labelNames: ['queue'], registers,
      help: 'From the time a job was due (scheduled_at) until a worker started it.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120] });
    new Gauge({
      name: 'cloudpods_jobs_queue_depth', labelNames: ['queue', 'status'], registers,
      help: 'Jobs per queue that are pending (due or later) or running, read from the database at scrape time.',
      async collect() {
        const { rows } = await sql<{ queue: string; status: string; count: number }>`
          select queue, status, count(*)::int as count from jobs
           where status in ('pending', 'running') group by queue, status`.execute(db);
        this.reset();
        for (const row of rows) this.set({ queue: row.queue, status: row.status }, row.count);
      },
    });
    new Gauge({
      name: 'cloudpods_jobs_oldest_pending_age_seconds', labelNames: ['queue'], registers,
      help: 'Age of the oldest due pending job per queue: how far a queue is behind.',
      async collect() {
        const { rows } = await sql<{ queue: string; age: number }>`
          select queue, extract(epoch from now() - min(scheduled_at))::float8 as age from jobs
           where status = 'pending' and scheduled_at <= now() group by queue`.execute(db);
        this.reset();
        for (const row of rows) this.set({ queue: row.queue }, row.age);
      },
    });
  }

  #child<T extends Child | Observer>(metric: string, make: () => T, ...labels: string[]): T {
    const id = `${metric}\u0000${labels.join('\u0000')}`;
    let child = this.#children.get(id);
    if (!child) this.#children.set(id, child = make());
    return child as T;
  }

  enqueued(queue: string, type: string, n = 1): void {
    this.#child('enqueued', () => this.#enqueued.labels(queue, type), queue, type).inc(n);
  }

  completed(queue: string, type: string): void {
    this.#child('completed', () => this.#completed.labels(queue, type), queue, type).inc();
  }

  failed(queue: string, type: string): void {
    this.#child('failed', () => this.#failed.labels(queue, type), queue, type).inc();
  }

  dead(queue: string, type: string): void {
    this.#child('dead', () => this.#dead.labels(queue, type), queue, type).inc();
  }

  rescued(queue: string): void {
    this.#child('rescued', () => this.#rescued.labels(queue), queue).inc();
  }

  rejected(queue: string): void {
    this.#child('rejected', () => this.#rejected.labels(queue), queue).inc();
  }

  ran(queue: string, type: string, seconds: number): void {
    this.#child<Observer>('duration', () => this.#duration.labels(queue, type), queue, type).observe(seconds);
  }

  pickedUp(queue: string, seconds: number): void {
    this.#child<Observer>('pickup', () => this.#pickup.labels(queue), queue).observe(seconds);
  }
}
