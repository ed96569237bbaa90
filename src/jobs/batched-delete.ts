import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/**
 * Deletes rows of a log-like table older than a cutoff, a few thousand at a time by id, each batch its own short
 * statement: no long lock, no huge transaction, and vacuum keeps up. Returns the number deleted.
 */
export async function deleteOlderThan(db: Kysely<Database>,
  table: 'cloud_pod_audit' | 'system_events' | 'idempotency_keys' | 'cloud_pod_hook_deliveries', cutoff: Date,
  { batchSize = 5000, column = 'created_at' }: { batchSize?: number; column?: 'created_at' | 'expires_at' } = {})
  : Promise<number> {
  let total = 0;
  for (;;) {
    const result = await sql`
      delete from ${sql.table(table)} where id in (
        select id from ${sql.table(table)} where ${sql.ref(column)} < ${cutoff} order by id limit ${batchSize})`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

export const daysAgo = (days: number, now = Date.now()): Date => new Date(now - days * 86_400_000);
