import { sql, type Kysely } from 'kysely';

/**
 * A tenant's optional probe of its pod (issue 16): null when none is set. The API and the CRD validate its shape
 * with one schema (src/health/probe-spec.ts); the CHECK only keeps the column an object of a known probe type, so
 * the health controller never reads a row it cannot run.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pods add column health_check jsonb null
      constraint cloud_pods_health_check_check
      check (health_check is null or (jsonb_typeof(health_check) = 'object'
        and health_check->>'type' in ('tcp', 'http', 'https')));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table cloud_pods drop column if exists health_check;`.execute(db);
}
