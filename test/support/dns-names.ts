import type { DnsRecordRow } from '../../src/db/schema.ts';
import { createDnsRecords, deleteDnsRecords, type DnsOrderDeps, type DnsRecordOrder } from '../../src/dns/orders.ts';
import { restApi, type OrderScope } from '../../src/front-door.ts';
import { syncPodDnsRecords } from '../../src/dns/pod-records.ts';
import { systemActor } from '../../src/observability/audit.ts';
import type { Template } from '../../src/tenancy/templates.ts';
import type { Tenant } from '../../src/tenancy/tenants.ts';
import type { DnsStack } from './dns-stack.ts';
import { aPod, aTemplate } from './fixtures.ts';

/**
 * Extra DNS names ordered the way both front doors order them (src/dns/orders.ts), for the suites about what the
 * dns-record controller makes of them. A name serves a pod's addresses, so each order gets a pod of its own holding
 * the addresses asked for, as the pod controller would have recorded them (no Proxmox is involved).
 */
export interface DnsNames {
  /** Orders `hostname` in `zone` for a new pod of the tenant holding `addresses`: one row per address. */
  order(tenant: Tenant, zone: string, hostname: string, addresses: string[],
    options?: Pick<DnsRecordOrder, 'ttl' | 'ptr'>): Promise<DnsRecordRow[]>;
  /** Deletes one record, as DELETE /api/cloud-pods/:podId/dns-records/:id does. */
  remove(record: DnsRecordRow): Promise<void>;
  /** The pod's addresses change, recorded as the pod controller records them (the names follow in its transaction). */
  readdress(podId: string, addresses: string[]): Promise<void>;
}

/** An admin's orders (any served zone), audited as a test actor. */
const scope: OrderScope = { actor: systemActor('test'), tenantId: null, door: restApi };

export function dnsNames({ database, app, pdns }: DnsStack): DnsNames {
  const deps: DnsOrderDeps = { db: database.db, engine: app.system.jobs, settings: app.system.settings, pdns: pdns.context() };
  let template: Promise<Template> | undefined;

  return {
    async order(tenant, zone, hostname, addresses, options = {}) {
      const pod = await aPod(database.db, { tenant, template: await (template ??= aTemplate(database.db)),
        ip_addresses: addresses });
      return createDnsRecords(deps, scope, { podId: pod.id, hostname, zone, ...options });
    },
    async remove(record) {
      await deleteDnsRecords(deps, scope, { podId: record.pod_id!, id: record.id });
    },
    async readdress(podId, addresses) {
      await database.db.transaction().execute(async (trx) => {
        const pod = await trx.updateTable('cloud_pods').set({ ip_addresses: JSON.stringify(addresses) })
          .where('id', '=', podId).returning(['id', 'tenant_id', 'hostname', 'zone', 'ip_addresses'])
          .executeTakeFirstOrThrow();
        await syncPodDnsRecords(trx, app.system.jobs, pod);
      });
    },
  };
}
