import type { Kysely } from 'kysely';
import type { Database, DnsRecordRow } from '../../src/db/schema.ts';
import { ptrOwner, rrsetRows } from '../../src/dns/records.ts';
import type { PowerDns } from '../../src/powerdns/context.ts';
import { queryDns, type DnsAnswer } from '../../src/powerdns/dns-query.ts';
import { canonicalContents, canonicalName, reverseName } from '../../src/powerdns/canonical.ts';
import type { PdnsRRset, PdnsZone } from '../../src/powerdns/types.ts';
import { findCondition } from '../../src/runtime/conditions.ts';
import { conditionTypes } from './reasons.ts';
import type { DesiredRRset } from './plan.ts';

/** One RRset the row takes part in, as wanted and as PowerDNS has it. */
export interface RRsetView {
  desired: DesiredRRset;
  /** The zone that holds the name; null when PowerDNS has none. */
  zone: PdnsZone | null;
  /** Every RRset PowerDNS has at the name (empty without a zone). */
  rrsets: PdnsRRset[];
  /** What the authoritative server answers for the name and type (without a zone: nothing asked). */
  answers: DnsAnswer[] | null;
  /** The answer as one line, for messages. */
  answerText: string;
}

export interface DnsObservation {
  /** This installation's name in ownership markers. */
  ownerId: string;
  forward: RRsetView;
  /** The PTR of the row's address, when the row asks for one or did before; null when there is nothing to look at. */
  ptr: RRsetView | null;
}

/**
 * The RRsets one row takes part in, computed from every live row (the database is the registry): the forward RRset
 * holds the addresses of all rows with the row's name and type; the PTR of the row's address names the oldest live
 * row asking for one, or nothing.
 */
export async function desiredForward(db: Kysely<Database>, row: DnsRecordRow): Promise<DesiredRRset> {
  const rows = await rrsetRows(db, row.hostname, row.type);
  return {
    name: canonicalName(row.hostname),
    type: row.type,
    // Rows of one RRset share one TTL in PowerDNS: the shortest asked for.
    ttl: rows.length > 0 ? Math.min(...rows.map((r) => r.ttl)) : row.ttl,
    contents: canonicalContents(row.type, rows.map((r) => r.ip_address)),
  };
}

export async function desiredPtr(db: Kysely<Database>, row: DnsRecordRow): Promise<DesiredRRset | null> {
  const name = reverseName(row.ip_address);
  if (!name) return null;
  const owner = await ptrOwner(db, row.ip_address);
  return { name, type: 'PTR', ttl: owner?.ttl ?? row.ttl, contents: owner ? [canonicalName(owner.hostname)] : [] };
}

/** Reads only: the rows that share the row's RRsets, PowerDNS' zones and RRsets, and the authoritative answers. */
export async function observeRecord(db: Kysely<Database>, pdns: PowerDns, row: DnsRecordRow): Promise<DnsObservation> {
  const forward = viewOf(pdns, await desiredForward(db, row), await pdns.zones.find(row.zone_name));
  // Rows that never asked for a PTR skip the reverse-zone lookups; one asked for before (PtrReady present) is
  // looked at once more, so switching the flag off removes the record.
  const ptrDesired = row.ptr || findCondition(row.conditions, conditionTypes.ptrReady) ? await desiredPtr(db, row) : null;
  // Stop before `in-addr.arpa.` and `ip6.arpa.`: nobody delegates those to us.
  const ptr = ptrDesired ? viewOf(pdns, ptrDesired, await pdns.zones.enclosing(ptrDesired.name, { stopAt: 2 })) : null;
  const [forwardView, ptrView] = await Promise.all([forward, ptr]);
  return { ownerId: pdns.ownerId, forward: forwardView, ptr: ptrView };
}

async function viewOf(pdns: PowerDns, desired: DesiredRRset, zone: PdnsZone | null): Promise<RRsetView> {
  if (!zone) return { desired, zone, rrsets: [], answers: null, answerText: '' };
  const [rrsets, response] = await Promise.all([pdns.reader.rrsetsAt(zone.id, desired.name),
    queryDns(pdns.dnsServer, desired.name, desired.type)]);
  const answerText = `${response.rcode} ${response.answers.map((a) => `${a.type} ${a.data} ttl ${a.ttl}`).join(', ')}`.trim();
  return { desired, zone, rrsets, answers: response.answers, answerText };
}
