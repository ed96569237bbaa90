import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import type { Logger } from '../observability/logger.ts';

export interface ListenerOptions {
  url: string;
  channels: readonly string[];
  logger: Logger;
  onNotification: (channel: string, payload: string) => void;
  /** Called once the LISTEN is in place, first and after every reconnect: anything missed meanwhile is unknown. */
  onConnected?: () => void;
  /** Called when the connection is lost: notifications may be missed until `onConnected` is called again. */
  onDisconnected?: (error: Error | undefined) => void;
  /** Prepares the session after the LISTENs, on every (re)connect, before it counts as connected. */
  onSession?: (client: pg.Client) => Promise<void>;
  /** What the connection is for, in its log lines. */
  name?: string;
  /** Reconnect delays double from the first to the cap. */
  firstRetryMs?: number;
  maxRetryMs?: number;
}

/**
 * One dedicated connection that LISTENs on some channels and comes back by itself after losing the server.
 * Notifications are hints: owners treat a reconnect as "anything may have changed" and re-read.
 */
export class NotificationListener {
  readonly #options: Required<Omit<ListenerOptions, 'onConnected' | 'onDisconnected' | 'onSession'>> &
    Pick<ListenerOptions, 'onConnected' | 'onDisconnected' | 'onSession'>;
  #client: pg.Client | undefined;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #connected = false;
  #attempt = 0;

  constructor(options: ListenerOptions) {
    this.#options = { firstRetryMs: 100, maxRetryMs: 5_000, name: 'notification listener', ...options };
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Connects now; resolves after the first LISTEN, or rejects when the first attempt fails (retries go on). */
  start(): Promise<void> {
    return this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({ connectionString: this.#options.url, application_name: 'cloudpods-listener' });
    this.#client = client;
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (this.#connected) {
        this.#connected = false;
        this.#options.onDisconnected?.(error);
      }
      this.#scheduleReconnect(error);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      this.#options.onNotification(message.channel, message.payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of this.#options.channels) await client.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      await this.#options.onSession?.(client);
    } catch (error) {
      onLost(error as Error);
      throw error;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#attempt = 0;
    this.#connected = true;
    this.#options.onConnected?.();
  }

  #scheduleReconnect(error: Error | undefined): void {
    if (this.#stopped || this.#retryTimer) return;
    const delay = Math.min(this.#options.maxRetryMs, this.#options.firstRetryMs * 2 ** this.#attempt++);
    this.#options.logger.warn({ err: error, retryInMs: delay, channels: this.#options.channels },
      `${this.#options.name} lost its database connection; reconnecting`);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect().catch(() => {});
    }, delay);
    this.#retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#connected = false;
    await this.#client?.end().catch(() => {});
  }
}

/** Sends a notification inside the caller's transaction: PostgreSQL delivers it only when that commits. */
export async function notify(db: Kysely<Database>, channel: string, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}
