import type { Kysely } from 'kysely';
import type { Database, DnsRecordRow } from '../../src/db/schema.ts';
import { deleteRow } from '../../src/dns/records.ts';
import { recordAudit } from '../../src/observability/audit.ts';
import type { PowerDns } from '../../src/powerdns/context.ts';
import { PowerDnsPermanentError } from '../../src/powerdns/errors.ts';
import type { ActOutcome, RunContext } from '../../src/runtime/kit.ts';
import type { DnsOutcome, DnsStep } from './decide.ts';

const controllerActor = { type: 'controller' as const, id: 'dns-record' };

/** Performs the DNS controller's one write: an RRset change (a repaired drift audited), or the row's removal. */
export async function actOnRecord(db: Kysely<Database>, pdns: PowerDns, row: DnsRecordRow, step: DnsStep,
  run: RunContext): Promise<ActOutcome<DnsOutcome> | void> {
  if (step.kind === 'delete-row') {
    // Fenced by generation: a spec change meanwhile keeps the row (its own reconcile follows).
    await deleteRow(db, row.id, row.generation);
    return;
  }
  const { view, change, drift } = step;
  try {
    await pdns.writer.write(view.zone!, [change]);
  } catch (error) {
    if (error instanceof PowerDnsPermanentError && error.status === 404) pdns.zones.forget(view.zone!.name);
    // PowerDNS refuses the data itself: the decision is told (retrying the same spec cannot help).
    if (error instanceof PowerDnsPermanentError && error.status === 422) return { outcome: { kind: 'rejected', message: error.message } };
    throw error;
  }
  if (!drift) return;
  const found = view.rrsets.find((r) => r.type === view.desired.type);
  await recordAudit(db, { actor: controllerActor, category: 'dns', action: 'dns.drift_repaired',
    tenantId: row.tenant_id, podId: row.pod_id, details: { record_id: row.id, name: view.desired.name,
      type: view.desired.type, expected: view.desired.contents, found: found ? found.records.map((r) => r.content) : null } });
  run.log.info({ event: true, id: row.id, name: view.desired.name, type: view.desired.type }, 'DNS drift repaired');
}
