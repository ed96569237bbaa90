import { sql, type Kysely } from 'kysely';

/**
 * Idempotency keys (draft-ietf-httpapi-idempotency-key-header): the first response to a POST with a key is kept
 * for a day and replayed to retries with the same key and body.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table idempotency_keys (
      id uuid primary key default gen_random_uuid(),
      scope text not null,
      key text not null constraint idempotency_keys_key_check check (length(key) between 1 and 255),
      method text not null,
      path text not null,
      request_hash text not null,
      state text not null default 'in_progress' constraint idempotency_keys_state_check check (state in ('in_progress', 'completed')),
      response_status integer null,
      response_body jsonb null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null default now() + interval '24 hours',
      constraint idempotency_keys_scope_key_unique unique (scope, key),
      constraint idempotency_keys_response_check check ((state = 'completed') = (response_status is not null))
    );
    create index idempotency_keys_expires_idx on idempotency_keys (expires_at);
    comment on table idempotency_keys is 'First responses to POSTs carrying an Idempotency-Key, replayed to retries for 24 hours.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table if exists idempotency_keys`.execute(db);
}
