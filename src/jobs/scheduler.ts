import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { JobClient } from './client.ts';
import { nextTick, parseCron, type CronExpression } from './cron.ts';
import { insertScheduledTick } from './sql/enqueue.ts';
import type { ScheduleDefinition } from './types.ts';

/** setTimeout cannot wait longer than 2^31-1 ms; longer waits re-check. */
const maxTimerMs = 2 ** 31 - 1;

/** The job key of one tick of a schedule; unique in the database across every status. */
export const scheduleTickKey = (name: string, tick: Date): string => `schedule:${name}:${tick.toISOString()}`;

/**
 * Fires schedules: at each tick every replica inserts the tick's job under the tick's unique key, and the database
 * keeps the first. Ticks are computed from the cadence alone (epoch-aligned intervals, UTC cron), so replicas agree
 * without talking to each other. Ticks missed while no process ran are not replayed.
 */
export class Scheduler {
  readonly #db: Kysely<Database>;
  readonly #client: JobClient;
  readonly #logger: Logger;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(db: Kysely<Database>, client: JobClient, logger: Logger) {
    this.#db = db;
    this.#client = client;
    this.#logger = logger;
  }

  start(schedules: readonly ScheduleDefinition[]): void {
    for (const schedule of schedules) {
      const parsed = 'cron' in schedule.cadence ? parseCron(schedule.cadence.cron) : undefined;
      this.#arm(schedule, nextTick(schedule.cadence, new Date(), parsed), parsed);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #arm(schedule: ScheduleDefinition, tick: Date, parsed: CronExpression | undefined): void {
    if (this.#stopped) return;
    const wait = tick.getTime() - Date.now();
    const timer = setTimeout(() => {
      if (Date.now() < tick.getTime()) return this.#arm(schedule, tick, parsed);
      void this.#fire(schedule, tick).finally(() => {
        // After a long pause (a suspended laptop), skip to the next tick from now rather than replay each one.
        const after = new Date(Math.max(tick.getTime(), Date.now()));
        this.#arm(schedule, nextTick(schedule.cadence, after, parsed), parsed);
      });
    }, Math.min(Math.max(0, wait), maxTimerMs));
    timer.unref();
    this.#timers.set(schedule.name, timer);
  }

  async #fire(schedule: ScheduleDefinition, tick: Date): Promise<void> {
    try {
      const inserted = await insertScheduledTick(this.#db, {
        queue: schedule.queue, type: schedule.type, payload: { ...schedule.payload, tick: tick.toISOString() },
        key: scheduleTickKey(schedule.name, tick), priority: schedule.priority, runAt: tick,
        maxAttempts: await this.#client.maxAttempts(schedule.queue),
      });
      this.#logger.debug({ schedule: schedule.name, tick, inserted }, 'schedule tick');
    } catch (error) {
      this.#logger.warn({ err: error, schedule: schedule.name, tick }, 'could not enqueue a schedule tick');
    }
  }
}
