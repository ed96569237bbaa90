import { sql, type Kysely } from 'kysely';

/**
 * Which process is answering a key still in progress: the number of the presence lock it holds
 * (src/db/presence.ts). When that process dies, PostgreSQL drops its lock with its connection, and the key may be
 * taken again at once instead of after a lease. Rows written before this column have none (see idempotency.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table idempotency_keys add column owner_lock integer null;
    comment on column idempotency_keys.owner_lock is
      'Presence lock of the process answering the request; while nobody holds it, an in_progress key is abandoned.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table idempotency_keys drop column if exists owner_lock`.execute(db);
}
