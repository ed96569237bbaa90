import { sql, type Kysely } from 'kysely';

/**
 * Kubernetes status follows the rows at once (issue 10): a change to a kube-managed pod, volume, DNS record or hook row
 * (or its removal, which lets the bridge release the finalizer) notifies `cloudpods_kube_status` with the
 * resource's uid. PostgreSQL delivers it at commit and folds repeats within one transaction. Notifications are
 * hints: the bridge still resyncs every resource now and then.
 */
const tables = ['cloud_pods', 'cloud_pod_volumes', 'cloud_pod_dns_records', 'cloud_pod_hooks'];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function cloudpods_notify_kube_status() returns trigger language plpgsql as $$
    begin
      perform pg_notify('cloudpods_kube_status', coalesce(new.kube_uid, old.kube_uid));
      return null;
    end
    $$;
    comment on function cloudpods_notify_kube_status() is
      'Tells the Kubernetes bridge which resource''s row changed (payload: kube_uid), so its status is written back at once.';
  `.execute(db);
  for (const table of tables) {
    await sql`
      create trigger ${sql.raw(`${table}_kube_status_changed`)} after update on ${sql.table(table)}
        for each row when (new.kube_uid is not null and old.* is distinct from new.*)
        execute function cloudpods_notify_kube_status();
      create trigger ${sql.raw(`${table}_kube_status_removed`)} after delete on ${sql.table(table)}
        for each row when (old.kube_uid is not null)
        execute function cloudpods_notify_kube_status();
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of tables) {
    await sql`
      drop trigger if exists ${sql.raw(`${table}_kube_status_changed`)} on ${sql.table(table)};
      drop trigger if exists ${sql.raw(`${table}_kube_status_removed`)} on ${sql.table(table)};
    `.execute(db);
  }
  await sql`drop function if exists cloudpods_notify_kube_status()`.execute(db);
}
