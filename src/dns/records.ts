import { sql, type Kysely } from 'kysely';
import type { Condition, Database, DnsRecordRow, DnsRecordStatus, NewDnsRecord } from '../db/schema.ts';

/** One function per SQL operation on cloud_pod_dns_records. */

type Db = Kysely<Database>;

export function findRecord(db: Db, id: string): Promise<DnsRecordRow | undefined> {
  return db.selectFrom('cloud_pod_dns_records').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The rows that make up one RRset in PowerDNS: every live row with this name and type. */
export function rrsetRows(db: Db, hostname: string, type: string): Promise<DnsRecordRow[]> {
  return db.selectFrom('cloud_pod_dns_records').selectAll()
    .where('hostname', '=', hostname).where('type', '=', type as DnsRecordRow['type'])
    .where('deletion_requested_at', 'is', null).orderBy('created_at').orderBy('id').execute();
}

/** The row whose name the PTR of an address carries: the oldest live row asking for one (one PTR per address). */
export function ptrOwner(db: Db, ipAddress: string): Promise<DnsRecordRow | undefined> {
  return db.selectFrom('cloud_pod_dns_records').selectAll()
    .where('ip_address', '=', ipAddress).where('ptr', '=', true).where('deletion_requested_at', 'is', null)
    .orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
}

export function insertRecords(db: Db, rows: NewDnsRecord[]): Promise<DnsRecordRow[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return db.insertInto('cloud_pod_dns_records').values(rows).returningAll().execute();
}

/** Asks for deletion (the controller removes the record from PowerDNS, then the row). Idempotent. */
export async function markForDeletion(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.updateTable('cloud_pod_dns_records')
    .set({ deletion_requested_at: sql`now()`, generation: sql`generation + 1`, updated_at: sql`now()` })
    .where('id', 'in', ids).where('deletion_requested_at', 'is', null).returning('id').execute();
  return rows.map((r) => r.id);
}

/** A spec change (new address, TTL or PTR flag): bumps the generation so status is recomputed. */
export async function updateSpec(db: Db, id: string, spec: { ip_address?: string; ttl?: number; ptr?: boolean }): Promise<boolean> {
  const result = await db.updateTable('cloud_pod_dns_records')
    .set({ ...spec, generation: sql`generation + 1`, updated_at: sql`now()` })
    .where('id', '=', id).where('deletion_requested_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface RecordStatus {
  status: DnsRecordStatus;
  conditions: Condition[];
  observed_generation: number;
}

/** Writes status for the generation it was computed from; a newer spec makes it a no-op. */
export async function writeStatus(db: Db, id: string, generation: number, status: RecordStatus): Promise<void> {
  await db.updateTable('cloud_pod_dns_records')
    .set({ status: status.status, conditions: JSON.stringify(status.conditions),
      observed_generation: status.observed_generation, updated_at: sql`now()` })
    .where('id', '=', id).where('generation', '=', generation).execute();
}

/** Removes a row whose records are gone from PowerDNS, unless its spec changed meanwhile. */
export async function deleteRow(db: Db, id: string, generation: number): Promise<boolean> {
  const result = await db.deleteFrom('cloud_pod_dns_records').where('id', '=', id).where('generation', '=', generation)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function allRecordIds(db: Db): Promise<string[]> {
  return (await db.selectFrom('cloud_pod_dns_records').select('id').execute()).map((r) => r.id);
}

export function recordsOfPod(db: Db, podId: string): Promise<DnsRecordRow[]> {
  return db.selectFrom('cloud_pod_dns_records').selectAll().where('pod_id', '=', podId)
    .orderBy('created_at').orderBy('id').execute();
}

/** The rows of one CloudPodDNSRecord (one per address), live or being deleted, by the resource's uid. */
export function recordsOfResource(db: Db, kubeUid: string): Promise<DnsRecordRow[]> {
  return db.selectFrom('cloud_pod_dns_records').selectAll().where('kube_uid', '=', kubeUid)
    .orderBy('created_at').orderBy('id').execute();
}

/** The live rows of an extra name of a pod (every type and owner). */
export function extraNameRows(db: Db, podId: string, hostname: string): Promise<DnsRecordRow[]> {
  return db.selectFrom('cloud_pod_dns_records').selectAll().where('pod_id', '=', podId).where('hostname', '=', hostname)
    .where('origin', '=', 'api').where('deletion_requested_at', 'is', null).orderBy('created_at').orderBy('id').execute();
}

/**
 * What a caller is told when nameClaimedByOthers holds: only that the name is taken. Who holds it (that another
 * tenant exists and uses that name) is not theirs to learn.
 */
export const nameTakenMessage = (hostname: string): string => `${hostname} is already taken`;

/** Live rows at a name owned by other tenants: the first tenant to claim a name keeps it. */
export async function nameClaimedByOthers(db: Db, hostname: string, tenantId: string): Promise<boolean> {
  const row = await db.selectFrom('cloud_pod_dns_records').select('id')
    .where('hostname', '=', hostname).where('tenant_id', '<>', tenantId).where('deletion_requested_at', 'is', null)
    .limit(1).executeTakeFirst();
  return row !== undefined;
}

export function activeRecords(db: Db): Promise<DnsRecordRow[]> {
  return db.selectFrom('cloud_pod_dns_records').selectAll()
    .where('status', '=', 'active').where('deletion_requested_at', 'is', null).execute();
}
