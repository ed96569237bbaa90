import { sql, type Kysely } from 'kysely';

/**
 * Hook delivery (spec 9): each hook signs its HTTP deliveries (Standard Webhooks) with a secret of its own,
 * `whsec_` and 32 bytes in base64, made by PostgreSQL for every row however it is inserted (REST API, Kubernetes
 * bridge, seed). gen_random_uuid() draws from the server's strong random source; two of them give 244 random bits.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pod_hooks add column signing_secret text not null
      default ('whsec_' || encode(decode(replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), 'hex'), 'base64'))
      constraint cloud_pod_hooks_signing_secret_check check (signing_secret ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$');
    comment on column cloud_pod_hooks.signing_secret is 'Standard Webhooks signing secret of the hook (whsec_...); shown once, never logged.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table cloud_pod_hooks drop column if exists signing_secret`.execute(db);
}
