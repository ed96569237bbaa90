import { sql, type Kysely } from 'kysely';

/**
 * DNS records (spec 8): a TTL and a PTR flag per record, and where the record came from: `pod` rows follow the
 * pod's hostname and addresses (src/dns/pod-records.ts), `api` rows are extra names added through the API.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pod_dns_records
      add column ttl integer not null default 300
        constraint cloud_pod_dns_records_ttl_check check (ttl between 30 and 86400),
      add column ptr boolean not null default false,
      add column origin text not null default 'pod'
        constraint cloud_pod_dns_records_origin_check check (origin in ('pod', 'api'));
    comment on column cloud_pod_dns_records.ttl is 'TTL in seconds of the RRset in PowerDNS (30 to 86400; PowerDNS itself does not range-check).';
    comment on column cloud_pod_dns_records.ptr is 'Also keep a PTR record for ip_address in its in-addr.arpa or ip6.arpa zone, when that zone exists.';
    comment on column cloud_pod_dns_records.origin is 'pod: follows the pod''s hostname and addresses; api: an extra name for the pod added through the API.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pod_dns_records drop column origin, drop column ptr, drop column ttl;
  `.execute(db);
}
