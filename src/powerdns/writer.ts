import type { Logger } from '../observability/logger.ts';
import type { PowerDnsClient } from './client.ts';
import { isTransient, PowerDnsPermanentError } from './errors.ts';
import { Mutex } from '../util/mutex.ts';
import type { PdnsZone, RRsetChange } from './types.ts';

export interface ZoneWriterOptions {
  /** One PATCH in flight per server, not only per zone: sqlite answers concurrent writers with 500 (pdns#14564). */
  serializeServer?: boolean;
  /** Attempts of one PATCH on 5xx or no answer before the error reaches the caller. */
  attempts?: number;
  /** First retry delay; doubled each time and shortened by up to half at random. */
  retryDelayMs?: number;
  logger?: Logger;
}

interface Pending {
  changes: RRsetChange[];
  resolve: (serial: number | null) => void;
  reject: (error: unknown) => void;
}

interface ZoneQueue {
  zone: PdnsZone;
  pending: Pending[];
  draining: boolean;
}

/**
 * Writes RRset changes, one PATCH in flight per zone (and per server when asked), batching: changes that arrive
 * while a PATCH is in flight go out together in the next one. A batch is one PowerDNS transaction (all or
 * nothing), so when PowerDNS refuses a batch of several callers' changes with a 4xx, each caller's changes are
 * sent again alone and only the bad ones fail. DELETEs go before REPLACEs. Primaries get a NOTIFY after a change.
 */
export class ZoneWriter {
  readonly #client: PowerDnsClient;
  readonly #zones = new Map<string, ZoneQueue>();
  readonly #server = new Mutex();
  readonly #serializeServer: boolean;
  readonly #attempts: number;
  readonly #retryDelayMs: number;
  readonly #logger: Logger | undefined;

  constructor(client: PowerDnsClient, options: ZoneWriterOptions = {}) {
    this.#client = client;
    this.#serializeServer = options.serializeServer ?? false;
    this.#attempts = options.attempts ?? 4;
    this.#retryDelayMs = options.retryDelayMs ?? 100;
    this.#logger = options.logger;
  }

  /** Applies the changes to the zone; resolves with the zone's new serial once PowerDNS committed them. */
  write(zone: PdnsZone, changes: RRsetChange[]): Promise<number | null> {
    if (changes.length === 0) return Promise.resolve(null);
    let queue = this.#zones.get(zone.id);
    if (!queue) this.#zones.set(zone.id, queue = { zone, pending: [], draining: false });
    queue.zone = zone;
    const promise = new Promise<number | null>((resolve, reject) => queue.pending.push({ changes, resolve, reject }));
    if (!queue.draining) void this.#drain(queue);
    return promise;
  }

  async #drain(queue: ZoneQueue): Promise<void> {
    queue.draining = true;
    try {
      while (queue.pending.length > 0) {
        const batch = queue.pending.splice(0);
        await this.#send(queue.zone, batch);
      }
    } finally {
      queue.draining = false;
      if (queue.pending.length === 0) this.#zones.delete(queue.zone.id);
      else void this.#drain(queue);
    }
  }

  async #send(zone: PdnsZone, batch: Pending[]): Promise<void> {
    try {
      const serial = await this.#patch(zone, mergeChanges(batch.map((p) => p.changes)));
      for (const p of batch) p.resolve(serial);
    } catch (error) {
      if (!(error instanceof PowerDnsPermanentError) || batch.length === 1) {
        for (const p of batch) p.reject(error);
        return;
      }
      // Someone's change is bad: find out whose by sending each alone.
      for (const p of batch) {
        try {
          p.resolve(await this.#patch(zone, mergeChanges([p.changes])));
        } catch (single) {
          p.reject(single);
        }
      }
    }
  }

  async #patch(zone: PdnsZone, changes: RRsetChange[]): Promise<number | null> {
    const once = async () => {
      const serial = await this.#client.patch(zone.id, changes);
      if (/^(master|primary)$/i.test(zone.kind)) {
        await this.#client.notify(zone.id).catch((error) =>
          this.#logger?.warn({ zone: zone.name, err: error }, 'NOTIFY failed; secondaries catch up at the next transfer check'));
      }
      return serial;
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await (this.#serializeServer ? this.#server.run(once) : once());
      } catch (error) {
        if (!isTransient(error) || attempt >= this.#attempts) throw error;
        const delay = this.#retryDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        this.#logger?.debug({ zone: zone.name, attempt, err: error }, 'PowerDNS write failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

/**
 * One change per (name, type), the latest caller's winning (every caller computed its change from the rows it read,
 * and PowerDNS refuses duplicates with 422); DELETEs first, as array order is execution order.
 */
export function mergeChanges(lists: readonly RRsetChange[][]): RRsetChange[] {
  const byKey = new Map<string, RRsetChange>();
  for (const list of lists) {
    for (const change of list) {
      const key = `${change.name} ${change.type}`;
      byKey.delete(key);
      byKey.set(key, change);
    }
  }
  const all = [...byKey.values()];
  return [...all.filter((c) => c.changetype === 'DELETE'), ...all.filter((c) => c.changetype !== 'DELETE')];
}
