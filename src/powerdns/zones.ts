import { canonicalName } from './canonical.ts';
import type { PowerDnsClient } from './client.ts';
import type { PdnsZone } from './types.ts';

/**
 * Zones by name, remembered for a minute: the controller asks for the same few zones for every record. Absence is
 * remembered only for seconds, so a zone created by an operator is picked up soon, while walking the 34 labels of
 * an ip6.arpa name does not cost 34 requests per record.
 */
export class ZoneDirectory {
  readonly #client: PowerDnsClient;
  readonly #ttlMs: number;
  readonly #absentTtlMs: number;
  readonly #known = new Map<string, { zone: PdnsZone | null; until: number }>();
  /** Lookups in flight, shared by callers asking for the same zone at once. */
  readonly #asking = new Map<string, Promise<PdnsZone | null>>();

  constructor(client: PowerDnsClient, { ttlMs = 60_000, absentTtlMs = 3000 } = {}) {
    this.#client = client;
    this.#ttlMs = ttlMs;
    this.#absentTtlMs = absentTtlMs;
  }

  async find(name: string): Promise<PdnsZone | null> {
    const key = canonicalName(name);
    const cached = this.#known.get(key);
    if (cached && cached.until > Date.now()) return cached.zone;
    let asking = this.#asking.get(key);
    if (!asking) {
      asking = this.#client.findZone(key).then((zone) => {
        this.#known.set(key, { zone, until: Date.now() + (zone ? this.#ttlMs : this.#absentTtlMs) });
        return zone;
      }).finally(() => this.#asking.delete(key));
      this.#asking.set(key, asking);
    }
    return asking;
  }

  /** The closest enclosing zone of a name (`a.b.c.` → `b.c.` → `c.`), e.g. the reverse zone of a PTR name. */
  async enclosing(name: string, { stopAt = 0 } = {}): Promise<PdnsZone | null> {
    const labels = canonicalName(name).split('.').filter(Boolean);
    for (let i = 0; i < labels.length - stopAt; i++) {
      const zone = await this.find(`${labels.slice(i).join('.')}.`);
      if (zone) return zone;
    }
    return null;
  }

  /** Forgets a zone PowerDNS said it does not have (deleted since we cached it). */
  forget(name: string): void {
    this.#known.delete(canonicalName(name));
  }
}
