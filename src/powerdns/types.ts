/** Shapes of the PowerDNS Authoritative HTTP API (4.7 subset: REPLACE and DELETE, comments with an account). */

export interface PdnsRecord {
  content: string;
  disabled: boolean;
}

export interface PdnsComment {
  content: string;
  /** Mandatory on 4.7; our ownership marker lives here. */
  account: string;
  modified_at?: number;
}

export interface PdnsRRset {
  /** Canonical: lower-case with a trailing dot. */
  name: string;
  type: string;
  ttl: number;
  records: PdnsRecord[];
  comments: PdnsComment[];
}

/** Zone kinds: only primaries (`Master`) need a NOTIFY after a change. */
export interface PdnsZone {
  /** The id PowerDNS gave the zone; never built from the name (`/` becomes `=2F`). */
  id: string;
  name: string;
  kind: string;
  serial: number;
}

export type RRsetChange =
  | { name: string; type: string; changetype: 'REPLACE'; ttl: number; records: PdnsRecord[]; comments: PdnsComment[] }
  | { name: string; type: string; changetype: 'DELETE' };

export interface PdnsServerInfo {
  id: string;
  version: string;
  daemon_type: string;
}
