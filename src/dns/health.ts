import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobEngine } from '../jobs/index.ts';
import { recordAudit } from '../observability/audit.ts';
import type { Logger } from '../observability/logger.ts';
import { canonicalName } from '../powerdns/canonical.ts';
import type { PowerDns } from '../powerdns/context.ts';
import { queryDns } from '../powerdns/dns-query.ts';
import { setCondition } from '../runtime/conditions.ts';
import { dnsRecordKind } from './kind.ts';
import { activeRecords, writeStatus } from './records.ts';

export const dnsHealthCheckType = 'dns.health_check';

/**
 * Spec 8's health check: asks the authoritative server for every active record; one no longer served is marked
 * error (Ready False, NotServed), audited, and handed to the controller, which repairs it if it still can.
 * Returns the ids found wanting.
 */
export async function checkDnsHealth(db: Kysely<Database>, pdns: PowerDns, logger: Logger): Promise<string[]> {
  const rows = await activeRecords(db);
  const byRRset = Map.groupBy(rows, (r) => `${r.hostname} ${r.type}`);
  const failing: string[] = [];
  for (const group of byRRset.values()) {
    const first = group[0]!;
    let served: Set<string>;
    let answer: string;
    try {
      const response = await queryDns(pdns.dnsServer, canonicalName(first.hostname), first.type);
      served = new Set(response.answers.filter((a) => a.type === first.type).map((a) => a.data));
      answer = response.answers.length > 0 ? response.answers.map((a) => a.data).join(', ') : response.rcode;
    } catch (error) {
      served = new Set();
      answer = (error as Error).message;
    }
    for (const row of group) {
      if (served.has(row.ip_address)) continue;
      failing.push(row.id);
      const message = `${row.hostname} ${row.type} ${row.ip_address} is no longer served (answer: ${answer})`;
      await db.transaction().execute(async (trx) => {
        await writeStatus(trx, row.id, row.generation, {
          status: 'error', observed_generation: row.observed_generation,
          conditions: setCondition(row.conditions, { type: 'Ready', status: 'False', reason: 'NotServed', message }, row.generation),
        });
        await recordAudit(trx, { actor: { type: 'system', id: dnsHealthCheckType }, category: 'dns',
          action: 'dns.health_check_failed', tenantId: row.tenant_id, podId: row.pod_id,
          details: { record_id: row.id, hostname: row.hostname, type: row.type, ip_address: row.ip_address, answer } });
      });
      logger.warn({ id: row.id, hostname: row.hostname, type: row.type }, 'DNS record no longer served');
    }
  }
  return failing;
}

/** The health check as a scheduled job on the `health` queue. */
export function defineDnsHealthCheck(engine: JobEngine, db: Kysely<Database>, pdns: PowerDns, logger: Logger,
  everyMs: number): void {
  engine.defineTask({
    queue: 'health', type: dnsHealthCheckType,
    handler: async () => {
      const failing = await checkDnsHealth(db, pdns, logger);
      await dnsRecordKind.enqueue(engine, db, failing);
    },
  });
  engine.defineSchedule({ name: dnsHealthCheckType, queue: 'health', type: dnsHealthCheckType, cadence: { everyMs } });
}
