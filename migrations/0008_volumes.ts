import { sql, type Kysely } from 'kysely';

/**
 * Volumes (issue 9): the desired attachment of each extra disk, and what the volume controller records before it
 * acts (the bus slot it chose, the Proxmox task in flight), so a restart continues the same step instead of
 * allocating a second disk.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pod_volumes
      add column attached boolean not null default true,
      add column slot text null
        constraint cloud_pod_volumes_slot_check check (slot ~ '^scsi([1-9]|[12][0-9]|30)$'),
      add column task_upid text null;
    -- Two volumes of one pod reconciled at once never claim the same slot.
    create unique index cloud_pod_volumes_pod_id_slot_key on cloud_pod_volumes (pod_id, slot) where slot is not null;
    comment on column cloud_pod_volumes.attached is 'Desired: attached to the pod''s VM (true) or kept as an unused disk (false).';
    comment on column cloud_pod_volumes.slot is 'Observed: the VM''s bus slot (scsiN) the disk is, or is being, attached at; recorded before acting.';
    comment on column cloud_pod_volumes.task_upid is 'UPID of the Proxmox task in flight for the volume.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop index if exists cloud_pod_volumes_pod_id_slot_key;
    alter table cloud_pod_volumes drop column if exists task_upid, drop column if exists slot,
      drop column if exists attached;
  `.execute(db);
}
