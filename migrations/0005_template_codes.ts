import { sql, type Kysely } from 'kysely';

/** Template codes carry versions (`ubuntu-24.04`), so they may contain dots. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pod_templates drop constraint cloud_pod_templates_code_check;
    alter table cloud_pod_templates add constraint cloud_pod_templates_code_check
      check (code ~ '^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$');
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pod_templates drop constraint cloud_pod_templates_code_check;
    alter table cloud_pod_templates add constraint cloud_pod_templates_code_check
      check (code ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$');
  `.execute(db);
}
