import { canonicalIPv4, canonicalIPv6 } from '../powerdns/canonical.ts';
import type { DnsRecordType } from '../db/schema.ts';

/** An address as a row stores it, with the record type it makes; null for anything that is not an address. */
export function recordAddress(address: string): { type: DnsRecordType; ip: string } | null {
  const v4 = canonicalIPv4(address);
  if (v4) return { type: 'A', ip: v4 };
  const v6 = canonicalIPv6(address);
  // IPv4-mapped addresses are refused by PowerDNS (422) and mean an IPv4 host anyway.
  if (v6 && !v6.startsWith('::ffff:')) return { type: 'AAAA', ip: v6 };
  return null;
}
