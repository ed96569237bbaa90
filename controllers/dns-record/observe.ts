import type { Kysely } from 'kysely';
import type { Database, DnsRecordRow } from '../../src/db/schema.ts';
import { ptrOwner, rrsetRows } from '../../src/dns/records.ts';
import { canonicalContents, canonicalName, reverseName } from '../../src/powerdns/canonical.ts';
import type { DesiredRRset } from './plan.ts';

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
