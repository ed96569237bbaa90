import type { Kysely } from 'kysely';
import type { Database, DnsRecordRow, DnsRecordType } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { assertOwnedBy, ownershipColumns, type OrderScope } from '../front-door.ts';
import { recordAudit } from '../observability/audit.ts';
import type { PowerDns } from '../powerdns/context.ts';
import { findTenant } from '../tenancy/tenants.ts';
import { recordAddress } from './addresses.ts';
import { dnsRecordKind } from './kind.ts';
import type { Enqueuer } from '../runtime/kind.ts';
import { extraNameRows, findRecord, insertRecords, markForDeletion, nameClaimedByOthers, nameTakenMessage,
  recordsOfPod, recordsOfResource, updateSpec } from './records.ts';
import { resolveName, type ZoneSettings } from './zones.ts';

/**
 * The writes of the DNS front doors (the REST API and the Kubernetes bridge) on extra names of a pod: desired rows
 * plus their audit entry and reconciles, in one transaction. Refusals are AppErrors the API renders as they are and
 * the bridge shows by their reason.
 */

export interface DnsOrderDeps {
  db: Kysely<Database>;
  engine: Enqueuer;
  settings: ZoneSettings & { getNumber(name: string): Promise<number> };
  pdns: PowerDns | null;
}

export interface DnsRecordOrder {
  podId: string;
  /** A full name inside the zone, or a single label completed with it. */
  hostname: string;
  /** Without one, a dotted hostname goes in the longest served zone the tenant may use that contains it. */
  zone?: string;
  /** Only the pod's IPv4 (A) or IPv6 (AAAA) addresses; default both. */
  type?: DnsRecordType;
  /** Default: `cloudpods.dns.default_ttl`. */
  ttl?: number;
  ptr?: boolean;
}

/** What the rows of one extra name must be: the pod's addresses of these types, with this TTL and PTR flag. */
export interface DnsNameWant {
  types: readonly DnsRecordType[];
  ttl: number;
  ptr: boolean;
}

export interface DnsNamePlan {
  create: Array<{ type: DnsRecordType; ip: string }>;
  /** Rows to mark for deletion: addresses the pod no longer has, or types no longer wanted. */
  stale: string[];
  /** Kept rows whose TTL or PTR flag differs. */
  update: Array<{ id: string; ttl: number; ptr: boolean }>;
}

const podNotFound = () => new AppError(404, 'not_found', 'pod not found', undefined, 'PodNotFound');
const nameConflict = (message: string) => new AppError(409, 'conflict', message, undefined, 'NameConflict');

/** Groups audit entries and reconciles of one order. */
async function audited(trx: Kysely<Database>, deps: DnsOrderDeps, scope: OrderScope, action: string,
  row: { tenant_id: string; pod_id: string | null }, details: Record<string, unknown>, touched: readonly string[]): Promise<void> {
  await recordAudit(trx, { actor: scope.actor, category: 'dns', action, tenantId: row.tenant_id, podId: row.pod_id,
    requestId: scope.requestId, details });
  await dnsRecordKind.enqueue(deps.engine, trx, touched);
}

/**
 * Adds an extra name for a pod's addresses (one row per address of the asked families): the zone must be served
 * and, but for admins, allowed for the pod's tenant; the pod must have an address and must not be going away; the
 * name must not be held by another tenant nor already be one of the pod's. Nothing is written when a check fails.
 */
export async function createDnsRecords(deps: DnsOrderDeps, scope: OrderScope, order: DnsRecordOrder)
  : Promise<DnsRecordRow[]> {
  const owner = await deps.db.selectFrom('cloud_pods').select('tenant_id').where('id', '=', order.podId).executeTakeFirst();
  if (!owner || (scope.tenantId !== null && owner.tenant_id !== scope.tenantId)) throw podNotFound();
  const tenant = scope.tenantId === null ? null : (await findTenant(deps.db, owner.tenant_id))!;
  const { hostname, zone } = await resolveName(deps.settings, deps.pdns, tenant, order);
  const ttl = order.ttl ?? await deps.settings.getNumber('cloudpods.dns.default_ttl');
  return deps.db.transaction().execute(async (trx) => {
    // The pod's addresses cannot move under us: the pod controller re-points names in a transaction on this row.
    const pod = await trx.selectFrom('cloud_pods').select(['id', 'tenant_id', 'ip_addresses', 'deletion_requested_at'])
      .where('id', '=', order.podId).forNoKeyUpdate().executeTakeFirst();
    if (!pod) throw podNotFound();
    if (pod.deletion_requested_at) {
      throw new AppError(409, 'conflict', 'the pod is being deleted', undefined, 'PodDeleting');
    }
    const addresses = pod.ip_addresses.map(recordAddress).filter((a) => a !== null)
      .filter((a) => !order.type || a.type === order.type);
    if (addresses.length === 0) {
      const family = order.type === 'AAAA' ? 'IPv6 ' : order.type === 'A' ? 'IPv4 ' : '';
      throw new AppError(409, 'conflict', `the pod has no ${family}address yet`, undefined, 'PodHasNoAddress');
    }
    if (await nameClaimedByOthers(trx, hostname, pod.tenant_id)) throw nameConflict(nameTakenMessage(hostname));
    const existing = (await recordsOfPod(trx, pod.id))
      .filter((r) => r.deletion_requested_at === null && r.hostname === hostname);
    if (existing.length > 0) throw nameConflict(`the pod already has records named ${hostname}`);
    const rows = await insertRecords(trx, addresses.map((a) => ({
      tenant_id: pod.tenant_id, pod_id: pod.id, zone_name: zone, hostname, ip_address: a.ip, type: a.type,
      origin: 'api' as const, ptr: order.ptr ?? false, ttl, ...ownershipColumns(scope.door),
    })));
    await audited(trx, deps, scope, 'dns.record_added', { tenant_id: pod.tenant_id, pod_id: pod.id }, { hostname, zone, ids: rows.map((r) => r.id) },
      rows.map((r) => r.id));
    return rows;
  });
}

/** Which rows a deletion is about: one record of a pod (REST), or every row of a CloudPodDNSRecord. */
export type DnsRecordSelection = { podId: string; id: string } | { resourceUid: string };

/**
 * Marks extra names for deletion; the controller removes them from PowerDNS, then the rows. Only the front door
 * that owns a record may delete it, and a pod's own name goes with the pod. Asking twice changes nothing.
 * Returns the rows as they are now (rows already gone as they were).
 */
export async function deleteDnsRecords(deps: DnsOrderDeps, scope: OrderScope, selection: DnsRecordSelection)
  : Promise<DnsRecordRow[]> {
  let rows: DnsRecordRow[];
  if ('id' in selection) {
    const record = await findRecord(deps.db, selection.id);
    if (!record || record.pod_id !== selection.podId || (scope.tenantId !== null && record.tenant_id !== scope.tenantId)) {
      throw new AppError(404, 'not_found', 'DNS record not found', undefined, 'RecordNotFound');
    }
    rows = [record];
  } else {
    rows = await recordsOfResource(deps.db, selection.resourceUid);
  }
  for (const row of rows) {
    assertOwnedBy(row, scope.door, 'this record', 'delete');
    if (row.origin === 'pod') {
      throw new AppError(409, 'conflict', 'this record follows the pod\'s hostname; change or delete the pod instead',
        undefined, 'ManagedElsewhere');
    }
  }
  const ids = rows.map((r) => r.id);
  await deps.db.transaction().execute(async (trx) => {
    const marked = await markForDeletion(trx, ids);
    if (marked.length === 0) return;
    await audited(trx, deps, scope, 'dns.record_deleted', rows[0]!, { hostname: rows[0]!.hostname, ids: marked }, marked);
  });
  const now = new Map((await Promise.all(ids.map((id) => findRecord(deps.db, id)))).filter((r) => r !== undefined)
    .map((r) => [r.id, r]));
  return rows.map((r) => now.get(r.id) ?? r);
}

/**
 * What the live rows of one extra name must become (pure): the pod's addresses of each wanted type, the TTL and
 * PTR flag wanted. Rows of a type no longer wanted are stale; a wanted type of which the pod has no address keeps
 * its rows as they are, as src/dns/pod-records.ts does when a pod's addresses change.
 */
export function planDnsName(rows: readonly DnsRecordRow[], podAddresses: readonly string[], want: DnsNameWant): DnsNamePlan {
  const addresses = podAddresses.map(recordAddress).filter((a) => a !== null);
  const plan: DnsNamePlan = { create: [], stale: [], update: [] };
  for (const type of new Set([...rows.map((r) => r.type), ...want.types])) {
    const ofType = rows.filter((r) => r.type === type);
    const ips = [...new Set(addresses.filter((a) => a.type === type).map((a) => a.ip))];
    if (!want.types.includes(type)) {
      plan.stale.push(...ofType.map((r) => r.id));
      continue;
    }
    if (ips.length > 0) {
      plan.stale.push(...ofType.filter((r) => !ips.includes(r.ip_address)).map((r) => r.id));
      plan.create.push(...ips.filter((ip) => !ofType.some((r) => r.ip_address === ip)).map((ip) => ({ type, ip })));
    }
  }
  for (const row of rows) {
    if (!plan.stale.includes(row.id) && (row.ttl !== want.ttl || row.ptr !== want.ptr)) {
      plan.update.push({ id: row.id, ttl: want.ttl, ptr: want.ptr });
    }
  }
  return plan;
}

export const planIsEmpty = (plan: DnsNamePlan): boolean =>
  plan.create.length === 0 && plan.stale.length === 0 && plan.update.length === 0;

/**
 * Brings the rows of one extra name of a pod to what is wanted (planDnsName, under the pod row's lock so the pod
 * controller's re-pointing cannot interleave): stale rows marked, TTL and PTR changes applied (generation bumped),
 * missing addresses added with the front door's identity. Only rows the front door owns change; a name held by
 * another front door is refused. Returns the plan applied (empty when nothing changed, or the pod is going away).
 */
export async function changeDnsName(deps: DnsOrderDeps, scope: OrderScope, name: { podId: string; hostname: string },
  want: DnsNameWant): Promise<DnsNamePlan> {
  const { door } = scope;
  return deps.db.transaction().execute(async (trx) => {
    const pod = await trx.selectFrom('cloud_pods').select(['id', 'tenant_id', 'ip_addresses', 'deletion_requested_at'])
      .where('id', '=', name.podId).forNoKeyUpdate().executeTakeFirst();
    if (!pod || (scope.tenantId !== null && pod.tenant_id !== scope.tenantId)) throw podNotFound();
    const all = await extraNameRows(trx, pod.id, name.hostname);
    for (const row of all) assertOwnedBy(row, door, `the name ${name.hostname}`, 'change');
    const rows = door.managedBy === 'kubernetes' ? all.filter((r) => r.kube_uid === door.uid) : all;
    const plan = planDnsName(rows, pod.ip_addresses, want);
    if (pod.deletion_requested_at || rows.length === 0 || planIsEmpty(plan)) return { create: [], stale: [], update: [] };
    // Deletions first: the unique (hostname, type, ip_address) index only counts live rows.
    const deleted = await markForDeletion(trx, plan.stale);
    const updated: string[] = [];
    for (const { id, ttl, ptr } of plan.update) if (await updateSpec(trx, id, { ttl, ptr })) updated.push(id);
    const first = rows[0]!;
    const created = await insertRecords(trx, plan.create.map((a) => ({
      tenant_id: pod.tenant_id, pod_id: pod.id, zone_name: first.zone_name, hostname: first.hostname, ip_address: a.ip,
      type: a.type, origin: 'api' as const, ttl: want.ttl, ptr: want.ptr, ...ownershipColumns(door),
    })));
    const createdIds = created.map((r) => r.id);
    await audited(trx, deps, scope, 'dns.record_updated', { tenant_id: pod.tenant_id, pod_id: pod.id }, { hostname: first.hostname, created: createdIds, updated,
      deleted, ttl: want.ttl, ptr: want.ptr }, [...deleted, ...updated, ...createdIds]);
    return plan;
  });
}
