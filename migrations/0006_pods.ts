import { sql, type Kysely } from 'kysely';

/**
 * Pods (issue 7): a per-pod secret seed from which stable per-pod secrets (the app stack's database password) are
 * derived, so user-data rendered on a retry is byte-identical; and a reboot request the controller acknowledges.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pods
      add column secret_seed text null,
      add column reboot_requested_at timestamptz null,
      add column rebooted_at timestamptz null;
    comment on column cloud_pods.secret_seed is 'Random; per-pod secrets are derived from it. Never shown by the API.';
    comment on column cloud_pods.reboot_requested_at is 'Desired: reboot once after this time (POST actions/reboot).';
    comment on column cloud_pods.rebooted_at is 'Observed: when the controller last rebooted the VM.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pods drop column if exists secret_seed, drop column if exists reboot_requested_at,
      drop column if exists rebooted_at;
  `.execute(db);
}
