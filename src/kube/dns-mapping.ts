import type { Condition, DnsRecordRow, DnsRecordStatus, DnsRecordType } from '../db/schema.ts';
import type { DnsNameWant, DnsRecordOrder } from '../dns/orders.ts';
import type { ResourceStatus } from './resource.ts';
import { observedConditions } from './status-report.ts';

/** Pure mapping between a CloudPodDNSRecord resource and its cloud_pod_dns_records rows (one per address). */

export interface CloudPodDnsRecordSpec {
  podName: string;
  hostname: string;
  zone: string;
  /** Absent: both families. */
  type?: DnsRecordType;
  ttl?: number;
  ptr?: boolean;
}

export interface CloudPodDnsRecordStatus extends ResourceStatus {
  phase?: DnsRecordStatus;
  addresses?: string[];
}

const allTypes: readonly DnsRecordType[] = ['A', 'AAAA'];

/** The REST API's order for a new resource, for the pod its CloudPod has. */
export function orderOf(podId: string, spec: CloudPodDnsRecordSpec, defaultTtl: number): DnsRecordOrder {
  return { podId, hostname: spec.hostname, zone: spec.zone, ...(spec.type ? { type: spec.type } : {}),
    ttl: spec.ttl ?? defaultTtl, ptr: spec.ptr ?? false };
}

/** What the resource's rows must be: its types (both when absent), TTL (the platform default when absent) and PTR flag. */
export function wantOf(spec: CloudPodDnsRecordSpec, defaultTtl: number): DnsNameWant {
  return { types: spec.type ? [spec.type] : allTypes, ttl: spec.ttl ?? defaultTtl, ptr: spec.ptr ?? false };
}

/** A row's condition of a type, or what a row the controller has not looked at yet says. */
function conditionOf(row: DnsRecordRow, type: string): Condition {
  return row.conditions.find((c) => c.type === type) ?? { type, status: 'Unknown', reason: 'Pending',
    message: `${row.hostname} ${row.type} ${row.ip_address}: waiting for the controller`,
    lastTransitionTime: new Date(row.created_at).toISOString() };
}

/**
 * One condition of the resource from its rows: True when every row says True (since the latest of them turned),
 * else the first row in error, else the first row not True, as that row says it.
 */
function aggregate(rows: readonly DnsRecordRow[], type: string): Condition {
  const conditions = rows.map((row) => conditionOf(row, type));
  if (conditions.every((c) => c.status === 'True')) {
    const latest = conditions.reduce((a, b) => (b.lastTransitionTime > a.lastTransitionTime ? b : a));
    return { ...conditions[0]!, lastTransitionTime: latest.lastTransitionTime };
  }
  const errorAt = rows.findIndex((row) => row.status === 'error' && conditionOf(row, type).status !== 'True');
  return conditions[errorAt >= 0 ? errorAt : conditions.findIndex((c) => c.status !== 'True')]!;
}

/**
 * The status subresource from the resource's live rows. `matchesSpec`: the rows are what the spec asks for
 * (planDnsName has nothing to do). As for CloudPods (pod-mapping.ts), the resource's generation counts as observed
 * only when every row has converged and the rows match the spec; otherwise the last observed one stays.
 */
export function statusOf(rows: readonly DnsRecordRow[], matchesSpec: boolean,
  resource: { metadata: { generation?: number }; status?: { observedGeneration?: number } }): CloudPodDnsRecordStatus {
  const converged = matchesSpec && rows.every((r) => r.observed_generation >= r.generation);
  const types = [...new Set(['Ready', ...rows.flatMap((r) => r.conditions.map((c) => c.type))])];
  const status: CloudPodDnsRecordStatus = {
    phase: rows.some((r) => r.status === 'error') ? 'error' : rows.every((r) => r.status === 'active') ? 'active' : 'pending',
    ...observedConditions(converged, types.map((type) => aggregate(rows, type)), resource),
    addresses: [...new Set(rows.filter((r) => r.status === 'active').map((r) => r.ip_address))].sort(),
  };
  return status;
}
