import type { DnsRecordRow } from '../db/schema.ts';

/** A record as the API shows it. */
export function recordView(row: DnsRecordRow) {
  return {
    id: row.id, tenant_id: row.tenant_id, pod_id: row.pod_id, zone_name: row.zone_name, hostname: row.hostname,
    type: row.type, ip_address: row.ip_address, ttl: row.ttl, ptr: row.ptr, origin: row.origin, status: row.status,
    conditions: row.conditions, generation: row.generation, observed_generation: row.observed_generation,
    deletion_requested_at: row.deletion_requested_at, created_at: row.created_at, updated_at: row.updated_at,
  };
}
