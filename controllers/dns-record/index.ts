import type { Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { dnsQueue, dnsRecordKind } from '../../src/dns/enqueue.ts';
import { allRecordIds } from '../../src/dns/records.ts';
import type { JobEngine } from '../../src/jobs/index.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { PowerDns } from '../../src/powerdns/context.ts';
import { registerReconciler } from '../../src/runtime/controller.ts';
import { createDnsReconciler, type DnsReconcilerDeps } from './reconcile.ts';

export interface DnsControllerOptions {
  engine: JobEngine;
  db: Kysely<Database>;
  logger: Logger;
  pdns: PowerDns;
  registry?: Registry;
  /** Every record is compared with PowerDNS this often (drift repair). */
  resyncEveryMs: number;
  /** Reconciles of records run at once by this process; PowerDNS writes are batched per zone whatever this is. */
  concurrency?: number;
  errorRetryMs?: DnsReconcilerDeps['errorRetryMs'];
}

/** Registers the dns-record controller on the job engine (its own `dns` queue). Call before `engine.start()`. */
export function registerDnsController(options: DnsControllerOptions): void {
  const logger = options.logger.child({ controller: dnsRecordKind });
  const reconcile = createDnsReconciler({ db: options.db, pdns: options.pdns, logger,
    ...(options.errorRetryMs !== undefined ? { errorRetryMs: options.errorRetryMs } : {}) });
  options.engine.defineQueue(dnsQueue, { concurrency: options.concurrency ?? 32 });
  registerReconciler({ engine: options.engine, db: options.db, logger: options.logger,
    ...(options.registry ? { registry: options.registry } : {}) }, {
    kind: dnsRecordKind,
    queue: dnsQueue,
    reconcile: (id) => reconcile(id),
    listIds: allRecordIds,
    resyncEveryMs: options.resyncEveryMs,
    timeoutMs: 120_000,
  });
}
