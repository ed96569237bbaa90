import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { JobSpec } from '../jobs/index.ts';
import { reconcileKey } from '../runtime/controller.ts';

/** The DNS controller's kind and queue: records have a queue of their own, so pods never wait behind them. */
export const dnsRecordKind = 'dns-record';
export const dnsQueue = 'dns';

/** What enqueues: the JobEngine, or a JobClient where no engine runs (both have these methods). */
export interface Enqueuer {
  enqueue(db: Kysely<Database>, spec: JobSpec): Promise<unknown>;
  enqueueMany(db: Kysely<Database>, specs: readonly JobSpec[]): Promise<unknown>;
}

export const dnsReconcileSpec = (id: string, runAt?: Date): JobSpec => ({
  queue: dnsQueue, type: `${dnsRecordKind}.reconcile`, key: reconcileKey(dnsRecordKind, id), payload: { id },
  ...(runAt ? { runAt } : {}),
});

/** Asks for the records' reconciles in the caller's transaction, so they exist exactly when the change commits. */
export async function enqueueDnsReconciles(engine: Enqueuer, trx: Kysely<Database>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await engine.enqueueMany(trx, ids.map((id) => dnsReconcileSpec(id)));
}
