import { canonicalContents } from '../../src/powerdns/canonical.ts';
import { isOwnedBy, ownerMarker } from '../../src/powerdns/ownership.ts';
import type { PdnsRRset, RRsetChange } from '../../src/powerdns/types.ts';

/** One RRset as we want PowerDNS to serve it; no contents means it should not exist (as far as it is ours). */
export interface DesiredRRset {
  /** Canonical: lower-case with a trailing dot. */
  name: string;
  type: 'A' | 'AAAA' | 'PTR';
  ttl: number;
  /** Canonical and sorted (canonicalContents). */
  contents: string[];
}

export type RRsetPlan =
  /**
   * No PATCH: PowerDNS already has what we want, or, for an RRset that should not exist, has nothing of ours there.
   * `verify` is false when what is there is someone else's (asking the server would show their record).
   */
  | { action: 'none'; verify: boolean }
  | { action: 'write'; change: RRsetChange; drift: boolean }
  /** Something not ours is in the way: never changed, never deleted. */
  | { action: 'conflict'; message: string };

/**
 * Decides the one change that makes PowerDNS serve `desired`, given every RRset PowerDNS has at that name.
 * `drift` says that the RRset was ours and had been changed or removed behind our back (the row was served before).
 */
export function planRRset(desired: DesiredRRset, observed: readonly PdnsRRset[], ownerId: string,
  { wasServed = false } = {}): RRsetPlan {
  const wanted = desired.contents.length > 0;
  const cname = observed.find((r) => r.type === 'CNAME');
  const existing = observed.find((r) => r.type === desired.type);
  const owned = existing !== undefined && isOwnedBy(existing, ownerId);

  if (!wanted) {
    if (owned) return { action: 'write', drift: false, change: { name: desired.name, type: desired.type, changetype: 'DELETE' } };
    return { action: 'none', verify: existing === undefined && cname === undefined };
  }
  if (cname) return { action: 'conflict', message: `a CNAME record exists at ${desired.name}; it is not ours and is left alone` };
  if (existing && !owned) {
    return { action: 'conflict',
      message: `a ${desired.type} record at ${desired.name} exists without our ownership marker; it is left alone` };
  }
  if (existing && matches(existing, desired)) return { action: 'none', verify: true };
  return {
    action: 'write',
    drift: wasServed,
    change: {
      name: desired.name, type: desired.type, changetype: 'REPLACE', ttl: desired.ttl,
      records: desired.contents.map((content) => ({ content, disabled: false })),
      comments: [ownerMarker(ownerId)],
    },
  };
}

/** Same contents, same TTL, nothing disabled, and exactly our marker: anything else is rewritten. */
function matches(existing: PdnsRRset, desired: DesiredRRset): boolean {
  const contents = canonicalContents(desired.type, existing.records.map((r) => r.content));
  return existing.ttl === desired.ttl
    && existing.records.every((r) => !r.disabled)
    && existing.records.length === contents.length
    && contents.length === desired.contents.length
    && contents.every((c, i) => c === desired.contents[i]);
}

/** Whether an answer from the authoritative server is what we want: the same contents (TTL included). */
export function servedAsDesired(desired: DesiredRRset, answers: readonly { type: string; ttl: number; data: string }[]): boolean {
  const relevant = answers.filter((a) => a.type === desired.type);
  const served = canonicalContents(desired.type, relevant.map((a) => a.data));
  return served.length === desired.contents.length && served.every((c, i) => c === desired.contents[i])
    && relevant.every((a) => a.ttl === desired.ttl);
}
