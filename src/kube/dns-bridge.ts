import type { DnsRecordRow } from '../db/schema.ts';
import { changeDnsName, createDnsRecords, deleteDnsRecords, planDnsName, planIsEmpty } from '../dns/orders.ts';
import { recordsOfResource } from '../dns/records.ts';
import { AppError } from '../errors.ts';
import { setCondition } from '../runtime/conditions.ts';
import type { BridgedKind } from './bridged-kind.ts';
import { podNamedBy, type BridgeDeps } from './deps.ts';
import { orderOf, statusOf, wantOf, type CloudPodDnsRecordSpec } from './dns-mapping.ts';
import type { KubeResource } from './resource.ts';

/** The live rows of a CloudPodDNSRecord (one per address served), and whether they are what its spec asks for. */
interface DnsName {
  rows: DnsRecordRow[];
  matchesSpec: boolean;
}

type DnsResource = KubeResource<CloudPodDnsRecordSpec>;

const defaultTtl = (deps: BridgeDeps) => deps.orders.settings.getNumber('cloudpods.dns.default_ttl');

/** The resource's live rows (none: undefined), compared with its spec and its pod's addresses (planDnsName). */
async function findName(deps: BridgeDeps, resource: DnsResource): Promise<DnsName | undefined> {
  const rows = (await recordsOfResource(deps.db, resource.metadata.uid))
    .filter((r) => r.deletion_requested_at === null);
  if (rows.length === 0) return undefined;
  const pod = await deps.db.selectFrom('cloud_pods').select('ip_addresses').where('id', '=', rows[0]!.pod_id!)
    .executeTakeFirst();
  const plan = planDnsName(rows, pod?.ip_addresses ?? [], wantOf(resource.spec, await defaultTtl(deps)));
  return { rows, matchesSpec: planIsEmpty(plan) };
}

/**
 * CloudPodDNSRecord: kube-managed cloud_pod_dns_records rows, one per address of the pod of the CloudPod its
 * `spec.podName` names, ordered, converged (types, TTL, PTR, the pod's addresses) and deleted through
 * src/dns/orders.ts. It means "this CloudPod's addresses have this name": until the pod exists and has an address it
 * says why (PodNotFound, PodHasNoAddress), and the name is ordered at the first sync that finds one. Rows marked for
 * deletion hold no spec; the finalizer waits until the dns-record controller removed them after PowerDNS.
 */
export const cloudPodDnsRecords: BridgedKind<CloudPodDnsRecordSpec, DnsName> = {
  kind: 'CloudPodDNSRecord',
  plural: 'cloudpoddnsrecords',
  find: findName,
  tenantOf: (name) => name.rows[0]!.tenant_id,
  deletionAsked: () => false, // only live rows are found
  podNameOf: (spec) => spec.podName,

  async create(deps, scope, resource, tenant) {
    const pod = await podNamedBy(deps.db, tenant.id, resource, {
      exists: 'the name is served once it exists and has an address',
      reapplied: 'the name is served again once it is applied again' });
    const rows = await createDnsRecords(deps.orders, scope, orderOf(pod.id, resource.spec, await defaultTtl(deps)));
    const served = rows.map((r) => `${r.type} ${r.ip_address}`).join(', ');
    return { row: { rows, matchesSpec: true },
      note: `${rows[0]!.hostname} ordered for ${served} of CloudPod ${resource.spec.podName}` };
  },

  async change(deps, scope, resource, name) {
    const first = name.rows[0]!;
    const plan = await changeDnsName(deps.orders, scope, { podId: first.pod_id!, hostname: first.hostname },
      wantOf(resource.spec, await defaultTtl(deps)));
    if (planIsEmpty(plan)) return { row: name, note: null };
    const now = await findName(deps, resource);
    // Every row was of a type no longer asked for, and the pod has no address of the new one.
    if (!now) {
      throw new AppError(409, 'conflict', 'the pod has no address of the type asked yet', undefined, 'PodHasNoAddress');
    }
    return { row: now,
      note: `${plan.create.length} added, ${plan.update.length} changed, ${plan.stale.length} removed` };
  },

  async delete(deps, scope, name) {
    await deleteDnsRecords(deps.orders, scope, { resourceUid: name.rows[0]!.kube_uid! });
    return undefined;
  },

  status: (name, resource) => statusOf(name.rows, name.matchesSpec, resource),
  notes: {
    deleting: (name) => `removing ${name.rows[0]!.hostname} from PowerDNS`,
    deleted: (resource) => `${resource.spec.hostname} is no longer served`,
  },

  async leaving(deps, resource) {
    const rows = await recordsOfResource(deps.db, resource.metadata.uid);
    if (rows.length === 0) return null;
    const deleting = { type: 'Ready', status: 'False' as const, reason: 'Deleting',
      message: `removing ${rows[0]!.hostname} from PowerDNS` };
    return (fresh) => ({ ...fresh.status,
      conditions: setCondition(fresh.status?.conditions ?? [], deleting, resource.metadata.generation ?? 1) });
  },
};
