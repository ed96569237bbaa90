import { randomInt } from 'node:crypto';
import { sql, type Expression, type RawBuilder } from 'kysely';
import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import { NotificationListener } from './listener.ts';

/** First key of the presence locks (two-key advisory locks, so no one-key lock such as the migrator's meets them). */
const presenceLockSpace = 0x43505052;

/**
 * This process's presence in the database: a session advisory lock, numbered at random, held on a connection of
 * its own for as long as the process lives. Work the process records as its own (an idempotency key in progress)
 * carries the number; when the process dies, even by SIGKILL, the kernel closes its socket, PostgreSQL ends the
 * session and the lock goes with it, so others know within moments that the work was abandoned, with no lease to
 * wait out. While the connection is lost the process counts as gone; it takes its number back on reconnecting.
 */
export class ProcessPresence {
  #lock = newLockNumber();
  readonly #connection: NotificationListener;

  constructor({ url, logger }: { url: string; logger: Logger }) {
    this.#connection = new NotificationListener({ url, logger, name: 'process presence connection', channels: [],
      onNotification: () => {}, onSession: (client) => this.#hold(client) });
  }

  /** The number of this process's lock, to record with work it owns. */
  get lock(): number {
    return this.#lock;
  }

  /** Connects and takes the lock; rejects when the first attempt fails (retries go on). */
  start(): Promise<void> {
    return this.#connection.start();
  }

  stop(): Promise<void> {
    return this.#connection.stop();
  }

  async #hold(client: pg.Client): Promise<void> {
    // The number is held elsewhere (another process drew it, or this one's previous session has not ended yet):
    // draw another. Work recorded under the old number counts as abandoned once its holder's session ends.
    while (!(await client.query<{ held: boolean }>('select pg_try_advisory_lock($1, $2) as held',
      [presenceLockSpace, this.#lock])).rows[0]!.held) {
      this.#lock = newLockNumber();
    }
  }
}

const newLockNumber = () => randomInt(1, 2 ** 31 - 1);

/** SQL: true while some process of this database holds presence lock number `lock`. */
export function presenceHeld(lock: Expression<number | null>): RawBuilder<boolean> {
  return sql<boolean>`exists (select 1 from pg_locks l
     where l.locktype = 'advisory' and l.database = (select oid from pg_database where datname = current_database())
       and l.classid = ${sql.lit(presenceLockSpace)}::oid and l.objid = ${lock}::oid and l.objsubid = 2 and l.granted)`;
}
