import { canonicalName } from './canonical.ts';
import type { PowerDnsClient } from './client.ts';
import type { PdnsRRset } from './types.ts';

interface Waiting {
  name: string;
  resolve: (rrsets: PdnsRRset[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Reads the RRsets at a name, batching like the writer: callers that arrive while a read of the zone is in flight
 * share the next read, which starts after they asked (so nobody gets an answer older than their question). One
 * caller gets a GET filtered by name; several get one GET of the whole zone (a 500-RRset zone reads in ~4 ms),
 * instead of one request each competing with the writes on sqlite.
 */
export class ZoneReader {
  readonly #client: PowerDnsClient;
  readonly #zones = new Map<string, { waiting: Waiting[]; reading: boolean }>();

  constructor(client: PowerDnsClient) {
    this.#client = client;
  }

  rrsetsAt(zoneId: string, name: string): Promise<PdnsRRset[]> {
    let zone = this.#zones.get(zoneId);
    if (!zone) this.#zones.set(zoneId, zone = { waiting: [], reading: false });
    const promise = new Promise<PdnsRRset[]>((resolve, reject) =>
      zone.waiting.push({ name: canonicalName(name), resolve, reject }));
    if (!zone.reading) void this.#drain(zoneId, zone);
    return promise;
  }

  async #drain(zoneId: string, zone: { waiting: Waiting[]; reading: boolean }): Promise<void> {
    zone.reading = true;
    try {
      while (zone.waiting.length > 0) {
        const batch = zone.waiting.splice(0);
        const names = new Set(batch.map((w) => w.name));
        try {
          const rrsets = names.size === 1 ? await this.#client.rrsetsAt(zoneId, batch[0]!.name)
            : await this.#client.zoneRRsets(zoneId);
          for (const w of batch) w.resolve(rrsets.filter((r) => r.name.toLowerCase() === w.name).map((r) => ({ ...r, name: w.name, comments: r.comments ?? [] })));
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      zone.reading = false;
      this.#zones.delete(zoneId);
    }
  }
}
