import { canonicalName } from './canonical.ts';
import { classifyStatus, PowerDnsTransientError } from './errors.ts';
import type { PdnsRRset, PdnsServerInfo, PdnsZone, RRsetChange } from './types.ts';

export interface PowerDnsClientOptions {
  /** `http://127.0.0.1:8081`; `/api/v1` is added. */
  apiUrl: string;
  apiKey: string;
  /** `localhost` on a plain installation. */
  serverId?: string;
  requestTimeoutMs?: number;
}

/**
 * A narrow client of the PowerDNS Authoritative HTTP API: zones by name, the RRsets at one name, one ordered PATCH,
 * NOTIFY. It sends exactly one request per call; locking, batching and retries are the ZoneWriter's job.
 */
export class PowerDnsClient {
  readonly #base: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  /** Requests made, by kind: the benchmark and the no-op tests read these. */
  readonly counters = { patches: 0, notifies: 0, reads: 0 };

  constructor({ apiUrl, apiKey, serverId = 'localhost', requestTimeoutMs = 30_000 }: PowerDnsClientOptions) {
    this.#base = `${apiUrl.replace(/\/+$/, '')}/api/v1/servers/${encodeURIComponent(serverId)}`;
    this.#apiKey = apiKey;
    this.#timeoutMs = requestTimeoutMs;
  }

  server(): Promise<PdnsServerInfo> {
    return this.#json('GET', '');
  }

  /** The zone named exactly `name`, or null. PowerDNS answers `[]` or one zone to `?zone=`. */
  async findZone(name: string): Promise<PdnsZone | null> {
    const zones = await this.#json<PdnsZone[]>('GET', `/zones?zone=${encodeURIComponent(canonicalName(name))}&dnssec=false`);
    const zone = zones.find((z) => z.name === canonicalName(name));
    return zone ? { id: zone.id, name: zone.name, kind: zone.kind, serial: zone.serial } : null;
  }

  /** The RRsets at exactly `name` (every type). Comment-only pseudo-RRsets and other names are filtered out. */
  async rrsetsAt(zoneId: string, name: string): Promise<PdnsRRset[]> {
    const wanted = canonicalName(name);
    this.counters.reads++;
    const zone = await this.#json<{ rrsets?: PdnsRRset[] }>('GET',
      `/zones/${zonePath(zoneId)}?rrset_name=${encodeURIComponent(wanted)}`);
    // Before 4.9.2 the filter also returns comment-only RRsets of other names (pdns#14539).
    return (zone.rrsets ?? [])
      .filter((r) => r.name.toLowerCase() === wanted && r.records.length > 0)
      .map((r) => ({ ...r, name: wanted, comments: r.comments ?? [] }));
  }

  /** Every RRset of a zone (with content): one read shared by many callers (ZoneReader). */
  async zoneRRsets(zoneId: string): Promise<PdnsRRset[]> {
    this.counters.reads++;
    const zone = await this.#json<{ rrsets?: PdnsRRset[] }>('GET', `/zones/${zonePath(zoneId)}`);
    return (zone.rrsets ?? []).filter((r) => r.records.length > 0);
  }

  /** One ordered PATCH (array order is execution order; all or nothing). Returns the zone's new serial. */
  async patch(zoneId: string, rrsets: readonly RRsetChange[]): Promise<number | null> {
    this.counters.patches++;
    const response = await this.#request('PATCH', `/zones/${zonePath(zoneId)}`, { rrsets });
    const serial = Number(response.headers.get('x-pdns-new-serial'));
    return Number.isFinite(serial) && serial > 0 ? serial : null;
  }

  /** Queues NOTIFY to the zone's secondaries (without it, primaries notify at the next xfr cycle, 60 s). */
  async notify(zoneId: string): Promise<void> {
    this.counters.notifies++;
    await this.#request('PUT', `/zones/${zonePath(zoneId)}/notify`);
  }

  /** Zones are never created by the controller; this is for dev mode and tests. */
  async createZone(name: string, { kind = 'Native', nameservers = [`ns1.${canonicalName(name)}`] }:
    { kind?: string; nameservers?: string[] } = {}): Promise<PdnsZone> {
    return this.#json('POST', '/zones', { name: canonicalName(name), kind, nameservers, soa_edit_api: 'DEFAULT' });
  }

  async deleteZone(zoneId: string): Promise<void> {
    await this.#request('DELETE', `/zones/${zonePath(zoneId)}`);
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.#request(method, path, body);
    return (await response.json()) as T;
  }

  async #request(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers: { 'X-API-Key': this.#apiKey, accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // No answer at all (refused, reset, timeout): the server may well be back soon.
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new PowerDnsTransientError(0, `PowerDNS ${method} ${path.split('?')[0]}: ${cause?.code ?? (error as Error).message}`,
        { cause: error });
    }
    if (response.ok) return response;
    const text = (await response.text()).slice(0, 500);
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch { /* plain text answer (404, 500) */ }
    throw classifyStatus(response.status, `PowerDNS ${method} ${path.split('?')[0]} answered ${response.status}: ${message.trim()}`);
  }
}

/** Zone ids are used as PowerDNS gave them; only characters a URL path cannot carry are escaped. */
const zonePath = (zoneId: string): string => zoneId.replace(/[^A-Za-z0-9.=_-]/g, (c) => encodeURIComponent(c));
