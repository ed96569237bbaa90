import type { DnsRecordRow } from '../db/schema.ts';
import { changeDnsName, createDnsRecords, deleteDnsRecords, planDnsName, planIsEmpty, type DnsOrderScope } from '../dns/orders.ts';
import { recordsOfResource } from '../dns/records.ts';
import { AppError } from '../errors.ts';
import { setCondition } from '../runtime/conditions.ts';
import { actor, doorOf, podOfCloudPod, type BridgeDeps } from './deps.ts';
import { orderOf, statusOf, wantOf, type CloudPodDnsRecordSpec } from './dns-mapping.ts';
import { ensureFinalizer, holdsFinalizer, removeFinalizer, writeStatus } from './resource-writes.ts';
import { refusalReason, refuse, reportStatus } from './status-report.ts';

/** Orders on a resource's existing rows act for the rows' tenant, audited as the bridge. */
const scopeOf = (row: DnsRecordRow): DnsOrderScope => ({ actor, tenantId: row.tenant_id });

const live = (rows: readonly DnsRecordRow[]) => rows.filter((r) => r.deletion_requested_at === null);

const defaultTtl = (deps: BridgeDeps) => deps.orders.settings.getNumber('cloudpods.dns.default_ttl');

/**
 * Brings one CloudPodDNSRecord and its rows (one per address it serves) together, level-triggered like a CloudPod:
 * finalizer first; then the order (create through src/dns/orders.ts with the Kubernetes front door, or converge the
 * rows to the spec and the pod's addresses, or mark them for deletion); then status back from the rows. The
 * resource means "this CloudPod's addresses have this name": until its pod exists and has an address it says why
 * (PodNotFound, PodHasNoAddress), and the name is ordered at the first sync that finds one.
 */
export async function syncCloudPodDnsRecord(deps: BridgeDeps, resource: any): Promise<void> {
  if (await ensureFinalizer(deps.client, resource)) return; // the MODIFIED event brings it back with the finalizer
  const spec: CloudPodDnsRecordSpec = resource.spec;
  const rows = await recordsOfResource(deps.db, resource.metadata.uid);
  if (resource.metadata.deletionTimestamp) {
    if (holdsFinalizer(resource)) await tearDown(deps, resource, rows);
    return;
  }
  const current = live(rows);
  const ordered = current.length === 0 ? await order(deps, resource, spec) : await converge(deps, resource, spec, current);
  if (!ordered) return;
  const [now, matches] = await observed(deps, resource, spec);
  await reportStatus(deps, resource, (fresh) => ({ ...statusOf(now, matches, fresh) }));
}

/**
 * The rows of a resource follow its spec (types, TTL, PTR) and its pod's addresses; false (with the reason over
 * the rows' status) when the orders refuse.
 */
async function converge(deps: BridgeDeps, resource: any, spec: CloudPodDnsRecordSpec, rows: DnsRecordRow[]): Promise<boolean> {
  const first = rows[0]!;
  try {
    const plan = await changeDnsName(deps.orders, scopeOf(first), { podId: first.pod_id!, hostname: first.hostname },
      wantOf(spec, await defaultTtl(deps)), doorOf(resource));
    if (!planIsEmpty(plan)) {
      await deps.events.record(resource, 'Normal', 'Updated', 'Update',
        `${plan.create.length} added, ${plan.update.length} changed, ${plan.stale.length} removed`);
    }
    return true;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const [now, matches] = await observed(deps, resource, spec);
    await refuse(deps, resource, refusalReason(error.code, error.message), error.message,
      (fresh) => ({ ...statusOf(now, matches, fresh) }));
    return false;
  }
}

/**
 * A deleted resource: its rows are marked for deletion through the orders, and the finalizer goes only once every
 * row is gone, which the dns-record controller does after PowerDNS stopped serving it.
 */
async function tearDown(deps: BridgeDeps, resource: any, rows: readonly DnsRecordRow[]): Promise<void> {
  const hostname = rows[0]?.hostname ?? resource.spec.hostname;
  if (rows.length === 0) {
    await deps.events.record(resource, 'Normal', 'Deleted', 'Delete', `${hostname} is no longer served`);
    await removeFinalizer(deps.client, resource);
    return;
  }
  if (live(rows).length > 0) {
    await deleteDnsRecords(deps.orders, scopeOf(rows[0]!), { resourceUid: resource.metadata.uid }, doorOf(resource));
    await deps.events.record(resource, 'Normal', 'Deleting', 'Delete', `removing ${hostname} from PowerDNS`);
  }
  const deleting = { type: 'Ready', status: 'False' as const, reason: 'Deleting', message: `removing ${hostname} from PowerDNS` };
  await writeStatus(deps.client, resource, (fresh) => ({ ...fresh.status,
    conditions: setCondition(fresh.status?.conditions ?? [], deleting, resource.metadata.generation ?? 1) }));
}

/** The resource's live rows now, and whether they are what its spec and its pod's addresses ask for. */
async function observed(deps: BridgeDeps, resource: any, spec: CloudPodDnsRecordSpec): Promise<[DnsRecordRow[], boolean]> {
  const rows = live(await recordsOfResource(deps.db, resource.metadata.uid));
  if (rows.length === 0) return [rows, false];
  const pod = await deps.db.selectFrom('cloud_pods').select('ip_addresses').where('id', '=', rows[0]!.pod_id!).executeTakeFirst();
  return [rows, planIsEmpty(planDnsName(rows, pod?.ip_addresses ?? [], wantOf(spec, await defaultTtl(deps))))];
}

/** Orders the name for a resource without rows; false (with the reason on the resource) when it cannot be yet. */
async function order(deps: BridgeDeps, resource: any, spec: CloudPodDnsRecordSpec): Promise<boolean> {
  const namespace = resource.metadata.namespace;
  const owner = await deps.tenantOf(namespace);
  if ('unknown' in owner) {
    await refuse(deps, resource, 'TenantUnknown', owner.unknown);
    return false;
  }
  const pod = await podOfCloudPod(deps.db, owner.tenant.id, namespace, spec.podName);
  if (!pod) {
    await refuse(deps, resource, 'PodNotFound',
      `no CloudPod ${spec.podName} in namespace ${namespace}: the name is served once it exists and has an address`);
    return false;
  }
  if (pod.deletion_requested_at) {
    await refuse(deps, resource, 'PodDeleting',
      `CloudPod ${spec.podName} is being deleted: the name is served again once it is applied again`);
    return false;
  }
  let rows: DnsRecordRow[];
  try {
    rows = await createDnsRecords(deps.orders, { actor, tenantId: owner.tenant.id }, orderOf(pod.id, spec, await defaultTtl(deps)),
      doorOf(resource));
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    await refuse(deps, resource, refusalReason(error.code, error.message), error.message);
    return false;
  }
  await deps.events.record(resource, 'Normal', 'Created', 'Create',
    `${rows[0]!.hostname} ordered for ${rows.map((r) => `${r.type} ${r.ip_address}`).join(', ')} of CloudPod ${spec.podName}`);
  return true;
}

/** A CloudPodDNSRecord gone from Kubernetes without our finalizer's teardown (forced removal): its name goes too. */
export async function orphanedDnsRecord(deps: BridgeDeps, resource: any): Promise<void> {
  const rows = await recordsOfResource(deps.db, resource.metadata.uid);
  if (live(rows).length > 0) {
    await deleteDnsRecords(deps.orders, scopeOf(rows[0]!), { resourceUid: resource.metadata.uid }, doorOf(resource));
  }
}
