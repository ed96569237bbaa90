import type { Kysely } from 'kysely';
import type { Database, DnsRecordOrigin, DnsRecordRow, DnsRecordType } from '../db/schema.ts';
import { recordAddress } from './addresses.ts';
import { dnsRecordKind } from './kind.ts';
import type { Enqueuer } from '../runtime/kind.ts';
import { qualifyName } from './names.ts';
import { insertRecords, markForDeletion, nameClaimedByOthers, recordsOfPod, updateSpec } from './records.ts';

/**
 * Spec 8's pod events, for the pod controller to call inside its transactions: a pod with a hostname gets A and
 * AAAA rows for its addresses; an address change updates them; deletion marks them for removal. The dns-record
 * controller does the PowerDNS work; the reconciles are enqueued in the caller's transaction.
 */

export interface PodForDns {
  id: string;
  tenant_id: string;
  /** `app.example.com`, or a label (`app`) completed with the zone. */
  hostname: string | null;
  zone: string | null;
  ip_addresses: string[];
}

export interface PodDnsSync {
  /** Rows created, re-pointed and marked for deletion. */
  created: number;
  updated: number;
  deleted: number;
  /** Names another tenant already holds: no rows were made for them. */
  conflicts: string[];
}

/** The pod's fully qualified name in row form, or null when it has none (or an invalid one). */
export function podFqdn(pod: Pick<PodForDns, 'hostname' | 'zone'>): { hostname: string; zone: string } | null {
  if (!pod.hostname || !pod.zone) return null;
  const name = qualifyName(pod.hostname, pod.zone);
  return 'problem' in name ? null : name;
}

/** Ensures the pod's rows match its hostname and addresses, and enqueues the reconciles of every row touched. */
export async function syncPodDnsRecords(trx: Kysely<Database>, engine: Enqueuer, pod: PodForDns,
  options: { ttl?: number; ptr?: boolean } = {}): Promise<PodDnsSync> {
  const result: PodDnsSync = { created: 0, updated: 0, deleted: 0, conflicts: [] };
  const addresses = pod.ip_addresses.map(recordAddress).filter((a) => a !== null);
  const live = (await recordsOfPod(trx, pod.id)).filter((r) => r.deletion_requested_at === null);
  const fqdn = podFqdn(pod);
  const touched: string[] = [];

  // The pod's own name: exactly one row per address, nothing under any other name.
  const own = live.filter((r) => r.origin === 'pod');
  let ownWanted = fqdn ? addresses.map((a) => ({ hostname: fqdn.hostname, zone: fqdn.zone, ...a })) : [];
  if (fqdn && ownWanted.length > 0 && await nameClaimedByOthers(trx, fqdn.hostname, pod.tenant_id)) {
    result.conflicts.push(fqdn.hostname);
    ownWanted = [];
  }
  await converge(own, ownWanted, 'pod');

  // Extra names follow the pod's addresses of their family; with none left they stay as they are. Rows made for
  // a name stay with the front door that owns it (a CloudPodDNSRecord's rows all carry the resource's identity).
  const extras = Map.groupBy(live.filter((r) => r.origin === 'api'),
    (r) => `${r.managed_by} ${r.kube_uid ?? ''} ${r.hostname} ${r.type}`);
  for (const rows of extras.values()) {
    const first = rows[0]!;
    const wanted = addresses.filter((a) => a.type === first.type)
      .map((a) => ({ hostname: first.hostname, zone: first.zone_name, ...a }));
    if (wanted.length > 0) await converge(rows, wanted, 'api', { ttl: first.ttl, ptr: first.ptr, owner: ownerOf(first) });
  }

  await dnsRecordKind.enqueue(engine, trx, touched);
  return result;

  async function converge(existing: DnsRecordRow[], wanted: Array<{ hostname: string; zone: string; type: DnsRecordType; ip: string }>,
    origin: DnsRecordOrigin, spec: { ttl?: number; ptr?: boolean; owner?: Owner } = options): Promise<void> {
    const key = (hostname: string, type: string, ip: string) => `${hostname} ${type} ${ip}`;
    const wantedKeys = new Set(wanted.map((w) => key(w.hostname, w.type, w.ip)));
    const existingKeys = new Set(existing.map((r) => key(r.hostname, r.type, r.ip_address)));
    const stale = existing.filter((r) => !wantedKeys.has(key(r.hostname, r.type, r.ip_address)));
    const missing = wanted.filter((w) => !existingKeys.has(key(w.hostname, w.type, w.ip)));
    // A stale row of the same name and type is re-pointed rather than replaced: its history and id stay.
    const repoint: Array<[DnsRecordRow, string]> = [];
    const toCreate: typeof missing = [];
    for (const w of missing) {
      const index = stale.findIndex((r) => r.hostname === w.hostname && r.type === w.type);
      if (index >= 0) repoint.push([stale.splice(index, 1)[0]!, w.ip]);
      else toCreate.push(w);
    }
    // Deletions first: the unique (hostname, type, ip_address) index only counts live rows.
    const deleted = await markForDeletion(trx, stale.map((r) => r.id));
    result.deleted += deleted.length;
    touched.push(...deleted);
    for (const [row, ip] of repoint) {
      if (await updateSpec(trx, row.id, { ip_address: ip })) {
        result.updated++;
        touched.push(row.id);
      }
    }
    const created = await insertRecords(trx, toCreate.map((w) => ({
      tenant_id: pod.tenant_id, pod_id: pod.id, zone_name: w.zone, hostname: w.hostname, ip_address: w.ip, type: w.type,
      origin, ...(spec.ttl !== undefined ? { ttl: spec.ttl } : {}), ...(spec.ptr !== undefined ? { ptr: spec.ptr } : {}),
      ...spec.owner,
    })));
    result.created += created.length;
    touched.push(...created.map((r) => r.id));
  }
}

/** The ownership columns of a row, for rows made beside it. */
type Owner = Pick<DnsRecordRow, 'managed_by' | 'kube_uid' | 'kube_namespace' | 'kube_name'>;
const ownerOf = ({ managed_by, kube_uid, kube_namespace, kube_name }: DnsRecordRow): Owner =>
  ({ managed_by, kube_uid, kube_namespace, kube_name });

/** Marks every record of the pod for deletion and enqueues their reconciles (before the pod row can go). */
export async function deletePodDnsRecords(trx: Kysely<Database>, engine: Enqueuer, podId: string): Promise<number> {
  const rows = await recordsOfPod(trx, podId);
  const marked = await markForDeletion(trx, rows.map((r) => r.id));
  await dnsRecordKind.enqueue(engine, trx, rows.map((r) => r.id));
  return marked.length;
}

/** True once every record row of the pod has been removed (its records are gone from PowerDNS). */
export async function podDnsRecordsGone(db: Kysely<Database>, podId: string): Promise<boolean> {
  return (await recordsOfPod(db, podId)).length === 0;
}
