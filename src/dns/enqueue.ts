import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { defineKind, type Enqueuer } from '../runtime/kind.ts';

export type { Enqueuer } from '../runtime/kind.ts';

/** DNS records are reconciled on a queue of their own, so pods never wait behind them. */
export const dnsRecordKind = defineKind('dns-record', 'dns');
export const dnsQueue = dnsRecordKind.queue;

/** Asks for the records' reconciles in the caller's transaction, so they exist exactly when the change commits. */
export async function enqueueDnsReconciles(engine: Enqueuer, trx: Kysely<Database>, ids: readonly string[]): Promise<void> {
  await dnsRecordKind.enqueue(engine, trx, ids);
}
