import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/database.ts';
import type { SystemEventLevel } from '../db/schema.ts';
import type { NumberSettings } from '../jobs/policy.ts';
import { definitionByName, type NumberDefinition } from '../settings/registry.ts';
import { PerMinuteBudget } from './event-budget.ts';

/** A log line as it will be stored in system_events (spec 5.2). */
export interface PendingEvent {
  service: string;
  level: SystemEventLevel;
  message: string;
  context: Record<string, unknown>;
  created_at: Date;
}

export interface EventSinkOptions {
  /** Lines kept while the database cannot take them; beyond this the oldest are dropped and counted. */
  bufferLimit?: number;
  /** Rows per INSERT. */
  batchSize?: number;
  /** Retry delays after a failed write double from the first to the cap. */
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** Told (outside the logger, which would feed this sink) when writing fails; default: nothing. */
  onWriteError?: (error: Error) => void;
}

/** The setting bounding info events per minute; read again before every write to the database. */
export const infoPerMinuteSetting = 'cloudpods.events.info_per_minute';
const defaultInfoPerMinute = (definitionByName(infoPerMinuteSetting) as NumberDefinition).default;

/** The `service` of the sink's own event (info events dropped over the limit). */
const sinkService = 'system-events';

/** Fields of a pino line that have their own column or mean nothing in the database. */
const lineFields = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/**
 * Turns one pino JSON line into an event row, or null when it is no event: warn and error lines are, info lines
 * only when marked `event: true` (the marker itself is not kept). Pure, so it is tested on its own.
 */
export function toEvent(line: string): PendingEvent | null {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line);
  } catch {
    return null;
  }
  const level = parsed.level === 'warn' ? 'warn' : parsed.level === 'error' || parsed.level === 'fatal' ? 'error'
    : parsed.level === 'info' && parsed.event === true ? 'info' : null;
  if (!level) return null;
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!lineFields.has(key) && !(key === 'event' && value === true)) context[key] = value;
  }
  const time = typeof parsed.time === 'string' || typeof parsed.time === 'number' ? new Date(parsed.time) : new Date();
  return {
    service: typeof parsed.service === 'string' ? parsed.service : 'cloudpods',
    level,
    message: typeof parsed.msg === 'string' ? parsed.msg : '',
    context,
    created_at: Number.isNaN(time.getTime()) ? new Date() : time,
  };
}

/**
 * A pino destination that stores events in system_events: warn and error lines, and info lines marked
 * `event: true`, at most `cloudpods.events.info_per_minute` of those a minute (the rest are counted, and the first
 * one dropped in a minute leaves a warning). `write` only parses and buffers, so logging never waits on the
 * database; a background loop inserts in batches, keeps a bounded buffer while the database is away (dropping the
 * oldest lines, counted in a metric) and resumes when it returns.
 */
export class SystemEventSink {
  readonly #bufferLimit: number;
  readonly #batchSize: number;
  readonly #firstRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #onWriteError: (error: Error) => void;
  readonly #buffer: PendingEvent[] = [];
  #db: Db | undefined;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #written: Counter | undefined;
  #dropped: Counter | undefined;
  #writeFailures: Counter | undefined;
  #buffered: Gauge | undefined;
  #infoDropped: Counter | undefined;
  #settings: NumberSettings | undefined;
  #infoPerMinute = defaultInfoPerMinute;
  readonly #infoBudget = new PerMinuteBudget();
  /** Lines dropped since start, for tests and the health page. */
  droppedCount = 0;
  /** Info events not stored because their minute had reached `cloudpods.events.info_per_minute`. */
  infoDroppedCount = 0;

  constructor({ bufferLimit = 10_000, batchSize = 500, firstRetryMs = 500, maxRetryMs = 30_000,
    onWriteError = () => {} }: EventSinkOptions = {}) {
    this.#bufferLimit = bufferLimit;
    this.#batchSize = batchSize;
    this.#firstRetryMs = firstRetryMs;
    this.#maxRetryMs = maxRetryMs;
    this.#onWriteError = onWriteError;
  }

  get bufferedCount(): number {
    return this.#buffer.length;
  }

  /** pino calls this with each serialized line at or above the sink's level. */
  write(line: string): void {
    // Most info lines are no events: skip them before parsing (toEvent decides for the rest).
    if (line.startsWith('{"level":"info"') && !line.includes('"event":true')) return;
    const event = toEvent(line);
    if (!event) return;
    if (event.level === 'info') {
      const decision = this.#infoBudget.take(event.created_at.getTime(), this.#infoPerMinute);
      if (!decision.keep) {
        this.infoDroppedCount++;
        this.#infoDropped?.inc();
        if (decision.first) this.#push(this.#overBudgetEvent(event.created_at));
        return;
      }
    }
    this.#push(event);
  }

  #overBudgetEvent(at: Date): PendingEvent {
    return { service: sinkService, level: 'warn', created_at: at, context: { limit: this.#infoPerMinute },
      message: `more than ${this.#infoPerMinute} info events this minute: the rest of the minute's are not stored `
        + `(${infoPerMinuteSetting})` };
  }

  #push(event: PendingEvent): void {
    this.#buffer.push(event);
    if (this.#buffer.length > this.#bufferLimit) {
      const excess = this.#buffer.length - this.#bufferLimit;
      this.#buffer.splice(0, excess);
      this.droppedCount += excess;
      this.#dropped?.inc(excess);
    }
    this.#buffered?.set(this.#buffer.length);
    this.#schedule(0);
  }

  /**
   * Starts storing: lines logged before this wait in the buffer. `settings` gives the info events' limit, read
   * before each write (until then, and when it cannot be read, the last value or the default holds).
   */
  attach(db: Db, registry?: Registry, settings?: NumberSettings): void {
    this.#db = db;
    this.#settings = settings;
    if (registry && !this.#written) {
      this.#written = new Counter({ name: 'cloudpods_system_events_written_total', registers: [registry],
        help: 'Events (warn and error lines, info lines marked as events) stored in system_events.' });
      this.#dropped = new Counter({ name: 'cloudpods_system_events_dropped_total', registers: [registry],
        help: 'Log lines dropped because the buffer was full while the database was unreachable.' });
      this.#writeFailures = new Counter({ name: 'cloudpods_system_events_write_failures_total', registers: [registry],
        help: 'Failed attempts to store a batch of system events (each is retried).' });
      this.#buffered = new Gauge({ name: 'cloudpods_system_events_buffered', registers: [registry],
        help: 'Log lines waiting to be stored in system_events.' });
      this.#infoDropped = new Counter({ name: 'cloudpods_system_events_info_dropped_total', registers: [registry],
        help: `Info events not stored because their minute had reached ${infoPerMinuteSetting}.` });
      this.#dropped.inc(this.droppedCount);
      this.#infoDropped.inc(this.infoDroppedCount);
    }
    this.#schedule(0);
  }

  /** Stores what is buffered now (one attempt) and stops writing; used on shutdown. */
  async detach(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    if (this.#db && this.#buffer.length > 0) await this.#flushOnce().catch(() => {});
    this.#db = undefined;
  }

  /** Resolves once everything buffered so far is stored (or the attempt failed). */
  async drain(): Promise<void> {
    while (this.#db && this.#buffer.length > 0) {
      await (this.#flushing ?? this.#runFlush());
      if (this.#failures > 0) return;
    }
  }

  #schedule(delayMs: number): void {
    if (!this.#db || this.#timer || this.#flushing) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#runFlush();
    }, delayMs);
    this.#timer.unref();
  }

  #runFlush(): Promise<void> {
    // One flush at a time: two would both read the buffer's head and store the same lines twice. A flush asked for
    // (drain) takes the place of a scheduled one.
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#flushing) return this.#flushing;
    // The marker is cleared in a promise reaction, which always runs after this assignment, even when the
    // flush itself finishes synchronously (nothing buffered).
    this.#flushing = this.#flushAll().finally(() => {
      this.#flushing = undefined;
      if (this.#buffer.length > 0) {
        this.#schedule(this.#failures === 0 ? 0
          : Math.min(this.#maxRetryMs, this.#firstRetryMs * 2 ** (this.#failures - 1)));
      }
    });
    return this.#flushing;
  }

  async #flushAll(): Promise<void> {
    if (this.#settings) {
      this.#infoPerMinute = await this.#settings.getNumber(infoPerMinuteSetting).catch(() => this.#infoPerMinute);
    }
    try {
      while (this.#db && this.#buffer.length > 0) await this.#flushOnce();
      this.#failures = 0;
    } catch (error) {
      this.#failures++;
      this.#writeFailures?.inc();
      this.#onWriteError(error as Error);
    }
  }

  async #flushOnce(): Promise<void> {
    const db = this.#db;
    if (!db) return;
    const batch = this.#buffer.slice(0, this.#batchSize);
    await db.insertInto('system_events').values(batch.map((e) => ({
      service: e.service, level: e.level, message: e.message, context: JSON.stringify(e.context),
      created_at: e.created_at,
    }))).execute();
    // Only now remove them: a failed insert leaves them for the next attempt (minus any dropped meanwhile).
    const stored = new Set(batch);
    let head = 0;
    while (head < this.#buffer.length && stored.has(this.#buffer[head]!)) head++;
    this.#buffer.splice(0, head);
    this.#written?.inc(batch.length);
    this.#buffered?.set(this.#buffer.length);
  }
}
