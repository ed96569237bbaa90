import type { DnsRecordRow } from '../../src/db/schema.ts';
import { dnsRecordKind } from '../../src/dns/kind.ts';
import { allRecordIds, findRecord } from '../../src/dns/records.ts';
import type { PowerDns } from '../../src/powerdns/context.ts';
import { registerController, type Controller, type ControllerDefinition, type KitDeps } from '../../src/runtime/kit.ts';
import { actOnRecord } from './act.ts';
import { reasons } from './reasons.ts';
import { decideRecord, type DnsOutcome, type DnsStep, type DnsTimings } from './decide.ts';
import { observeRecord, type DnsObservation } from './observe.ts';

export interface DnsControllerOptions extends KitDeps {
  pdns: PowerDns;
  /** Every record is compared with PowerDNS this often (drift repair). */
  resyncEveryMs: number;
  /** Reconciles of records run at once by this process; PowerDNS writes are batched per zone whatever this is. */
  concurrency?: number;
  timings?: Partial<DnsTimings>;
}

/**
 * The dns-record controller: makes PowerDNS serve each row's RRsets (forward, and PTR where asked), or removes them
 * when the row is being deleted. Observes before writing and writes only what differs; never touches what is not
 * marked as ours. On its own `dns` queue, so pods never wait behind records. Register before `engine.start()`.
 */
export function registerDnsController(options: DnsControllerOptions): Controller {
  return registerController(options, dnsController(options));
}

/** The dns-record controller's definition (tests build it on a recording PowerDNS client). */
export function dnsController(options: Pick<DnsControllerOptions, 'db' | 'pdns' | 'resyncEveryMs' | 'concurrency' | 'timings'>)
  : ControllerDefinition<DnsRecordRow, { row: DnsRecordRow }, DnsObservation, DnsStep, DnsOutcome> {
  const { db, pdns } = options;
  const timings: DnsTimings = { notServedRetryMs: 250, errorRetryMs: 60_000, ...options.timings };
  return {
    kind: dnsRecordKind,
    table: 'cloud_pod_dns_records',
    load: async (id) => {
      const row = await findRecord(db, id);
      return row ? { row } : undefined;
    },
    observe: ({ row }) => observeRecord(db, pdns, row),
    decide: ({ row }, seen, outcome) => decideRecord(row, seen, timings, outcome),
    act: (step, { row }, _seen, run) => actOnRecord(db, pdns, row, step, run),
    // PowerDNS down or busy, or a database hiccup: say so, keep the phase, let the engine retry.
    failure: (error) => ({ type: 'Ready', status: 'False', reason: reasons.powerDnsUnavailable, message: error.message }),
    resyncIds: allRecordIds,
    resyncEveryMs: options.resyncEveryMs,
    timeoutMs: 120_000,
    concurrency: options.concurrency ?? 32,
  };
}
