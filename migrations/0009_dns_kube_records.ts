import { sql, type Kysely } from 'kysely';

/**
 * A CloudPodDNSRecord is served by one row per address (A and AAAA, one row each), and every one of them carries the
 * resource's identity. The unique index on kube_uid that migration 0001 gives every desired-state table forbids
 * that, so on this table it becomes a plain index (the bridge finds a resource's rows by it); the other tables
 * keep theirs.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    drop index cloud_pod_dns_records_kube_uid_key;
    create index cloud_pod_dns_records_kube_uid_idx on cloud_pod_dns_records (kube_uid) where kube_uid is not null;
    comment on column cloud_pod_dns_records.kube_uid is 'metadata.uid of the CloudPodDNSRecord, for rows with managed_by = kubernetes; shared by the rows of its addresses.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index if exists cloud_pod_dns_records_kube_uid_idx;
    create unique index cloud_pod_dns_records_kube_uid_key on cloud_pod_dns_records (kube_uid) where kube_uid is not null;
    comment on column cloud_pod_dns_records.kube_uid is 'metadata.uid of the Kubernetes resource, for rows with managed_by = kubernetes.';
  `.execute(db);
}
