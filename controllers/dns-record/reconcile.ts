import { isDeepStrictEqual } from 'node:util';
import type { Kysely } from 'kysely';
import type { Condition, Database, DnsRecordRow, DnsRecordStatus } from '../../src/db/schema.ts';
import { deleteRow, findRecord, writeStatus } from '../../src/dns/records.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { recordAudit } from '../../src/observability/audit.ts';
import type { PowerDns } from '../../src/powerdns/context.ts';
import { queryDns } from '../../src/powerdns/dns-query.ts';
import { PowerDnsPermanentError } from '../../src/powerdns/errors.ts';
import type { PdnsZone } from '../../src/powerdns/types.ts';
import { findCondition, removeCondition, setCondition, type ConditionUpdate } from '../../src/runtime/conditions.ts';
import { done, requeueAfter, type Result } from '../../src/runtime/result.ts';
import { toError } from '../../src/runtime/errors.ts';
import { conditionTypes, reasons } from './conditions.ts';
import { desiredForward, desiredPtr } from './observe.ts';
import { planRRset, servedAsDesired, type DesiredRRset } from './plan.ts';

export interface DnsReconcilerDeps {
  db: Kysely<Database>;
  pdns: PowerDns;
  logger: Logger;
  /** When a record in error (conflict, zone missing) is looked at again; the resync looks too. */
  errorRetryMs?: number;
  /** When a written record not yet served is asked for again. */
  notServedRetryMs?: number;
}

/** What became of one RRset in this pass. */
type Outcome =
  | { kind: 'served' }
  | { kind: 'notServed'; message: string }
  | { kind: 'zoneNotFound'; message: string }
  | { kind: 'conflict'; message: string }
  | { kind: 'rejected'; message: string };

const controllerActor = { type: 'controller' as const, id: 'dns-record' };

/**
 * One DNS record row: make PowerDNS serve its RRsets (forward, and PTR where asked), or remove them when the row is
 * being deleted, then record status. Observes before writing and writes only what differs; never touches what
 * is not marked as ours.
 */
export function createDnsReconciler(deps: DnsReconcilerDeps) {
  const { db, pdns, logger } = deps;
  const errorRetryMs = deps.errorRetryMs ?? 60_000;
  const notServedRetryMs = deps.notServedRetryMs ?? 1000;

  async function converge(row: DnsRecordRow, desired: DesiredRRset, zone: PdnsZone, wasServed: boolean): Promise<Outcome> {
    const observed = await pdns.reader.rrsetsAt(zone.id, desired.name);
    const plan = planRRset(desired, observed, pdns.ownerId, { wasServed });
    if (plan.action === 'conflict') return { kind: 'conflict', message: plan.message };
    if (plan.action === 'write') {
      try {
        await pdns.writer.write(zone, [plan.change]);
      } catch (error) {
        if (error instanceof PowerDnsPermanentError && error.status === 404) pdns.zones.forget(zone.name);
        if (error instanceof PowerDnsPermanentError && error.status === 422) return { kind: 'rejected', message: error.message };
        throw error;
      }
      if (plan.drift) {
        const found = observed.find((r) => r.type === desired.type);
        await recordAudit(db, { actor: controllerActor, category: 'dns', action: 'dns.drift_repaired',
          tenantId: row.tenant_id, podId: row.pod_id, details: { record_id: row.id, name: desired.name, type: desired.type,
            expected: desired.contents, found: found ? found.records.map((r) => r.content) : null } });
        logger.info({ event: true, id: row.id, name: desired.name, type: desired.type }, 'DNS drift repaired');
      }
    } else if (!plan.verify) {
      return { kind: 'served' };
    }
    return verify(desired);
  }

  /** Asks the authoritative server itself; the API purges its caches on write, so a few quick looks suffice. */
  async function verify(desired: DesiredRRset): Promise<Outcome> {
    let answer = '';
    for (let look = 0; look < 4; look++) {
      const response = await queryDns(pdns.dnsServer, desired.name, desired.type);
      if (servedAsDesired(desired, response.answers)) return { kind: 'served' };
      answer = `${response.rcode} ${response.answers.map((a) => `${a.type} ${a.data} ttl ${a.ttl}`).join(', ')}`;
      await new Promise((resolve) => setTimeout(resolve, 25 * (look + 1)));
    }
    return { kind: 'notServed', message: `${desired.name} ${desired.type} is not served as wanted yet (answer: ${answer.trim()})` };
  }

  async function forward(row: DnsRecordRow, wasServed: boolean): Promise<Outcome> {
    const zone = await pdns.zones.find(row.zone_name);
    if (!zone) return { kind: 'zoneNotFound', message: `zone ${row.zone_name} does not exist in PowerDNS; it is never created automatically` };
    return converge(row, await desiredForward(db, row), zone, wasServed);
  }

  /** The PTR of the row's address, when its reverse zone exists; null when there is nothing to do. */
  async function reverse(row: DnsRecordRow, wasServed: boolean): Promise<Outcome | null> {
    // Rows that never asked for a PTR skip the reverse-zone lookups; one asked for before (PtrReady present) is
    // looked at once more, so switching the flag off removes the record.
    if (!row.ptr && !findCondition(row.conditions, conditionTypes.ptrReady)) return null;
    const desired = await desiredPtr(db, row);
    if (!desired) return null;
    // Stop before `in-addr.arpa.` and `ip6.arpa.`: nobody delegates those to us.
    const zone = await pdns.zones.enclosing(desired.name, { stopAt: 2 });
    if (!zone) {
      return row.ptr && desired.contents.length > 0
        ? { kind: 'zoneNotFound', message: `no reverse zone for ${desired.name} exists in PowerDNS` } : null;
    }
    return converge(row, desired, zone, wasServed);
  }

  async function saveStatus(row: DnsRecordRow, status: DnsRecordStatus, updates: Array<ConditionUpdate | string>,
    observedGeneration: number): Promise<void> {
    let conditions: Condition[] = row.conditions;
    for (const update of updates) {
      conditions = typeof update === 'string' ? removeCondition(conditions, update)
        : setCondition(conditions, update, row.generation);
    }
    const next = { status, conditions, observed_generation: observedGeneration };
    const current = { status: row.status, conditions: row.conditions, observed_generation: row.observed_generation };
    if (!isDeepStrictEqual(current, next)) await writeStatus(db, row.id, row.generation, next);
  }

  return async function reconcileDnsRecord(id: string): Promise<Result> {
    const row = await findRecord(db, id);
    if (!row) return done();
    const deleting = row.deletion_requested_at !== null;
    const upToDate = row.observed_generation === row.generation;
    try {
      if (deleting) {
        // PTR first, then the forward record: nothing ever points back at a name that is gone.
        const ptr = await reverse(row, false);
        const fwd = await forward(row, false);
        const waiting = [ptr, fwd].find((o) => o?.kind === 'notServed');
        if (waiting) {
          await saveStatus(row, row.status, [readyFalse(reasons.deleting, (waiting as { message: string }).message)], row.observed_generation);
          return requeueAfter(notServedRetryMs);
        }
        await deleteRow(db, row.id, row.generation);
        return done();
      }

      const fwd = await forward(row, row.status === 'active' && upToDate);
      const ptr = await reverse(row, upToDate && findCondition(row.conditions, conditionTypes.ptrReady)?.status === 'True');
      const ready = readyFromOutcome(fwd);
      const ptrUpdate = row.ptr && ptr ? { ...readyFromOutcome(ptr), type: conditionTypes.ptrReady } : conditionTypes.ptrReady;
      const status: DnsRecordStatus = fwd.kind === 'served' ? 'active' : fwd.kind === 'notServed' ? 'pending' : 'error';
      await saveStatus(row, status, [ready, ptrUpdate], row.generation);
      if (fwd.kind === 'notServed' || ptr?.kind === 'notServed') return requeueAfter(notServedRetryMs);
      if (fwd.kind !== 'served') return requeueAfter(errorRetryMs);
      return done();
    } catch (thrown) {
      const error = toError(thrown);
      // Transient (PowerDNS down or busy, database hiccup): say so, keep the phase, let the engine retry.
      await saveStatus(row, row.status, [readyFalse(reasons.powerDnsUnavailable, error.message)], row.observed_generation)
        .catch(() => undefined);
      throw error;
    }
  };
}

const readyFalse = (reason: string, message: string): ConditionUpdate =>
  ({ type: conditionTypes.ready, status: 'False', reason, message });

function readyFromOutcome(outcome: Outcome): ConditionUpdate {
  switch (outcome.kind) {
    case 'served': return { type: conditionTypes.ready, status: 'True', reason: reasons.served, message: 'served by the authoritative server' };
    case 'notServed': return readyFalse(reasons.notServed, outcome.message);
    case 'zoneNotFound': return readyFalse(reasons.zoneNotFound, outcome.message);
    case 'conflict': return readyFalse(reasons.conflict, outcome.message);
    case 'rejected': return readyFalse(reasons.rejected, outcome.message);
  }
}
