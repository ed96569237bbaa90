import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, SystemSettingsTable } from '../db/schema.ts';

/** The stored rows of system_settings; one function per SQL operation. */
export type StoredSetting = Selectable<SystemSettingsTable>;

export function loadStoredSettings(db: Kysely<Database>): Promise<StoredSetting[]> {
  return db.selectFrom('system_settings').selectAll().execute();
}

/** Locks the named rows for the rest of the transaction, so concurrent writers record true old values. */
export function lockStoredSettings(db: Kysely<Database>, names: readonly string[]): Promise<StoredSetting[]> {
  if (names.length === 0) return Promise.resolve([]);
  return db.selectFrom('system_settings').selectAll()
    .where(sql<string>`namespace || '.' || key`, 'in', names)
    .forUpdate().execute();
}

export interface SettingWrite {
  namespace: string;
  key: string;
  value: unknown;
  valueType: SystemSettingsTable['value_type'];
  updatedBy: string;
}

export async function upsertStoredSetting(db: Kysely<Database>, write: SettingWrite): Promise<void> {
  await db.insertInto('system_settings').values({
    namespace: write.namespace,
    key: write.key,
    value: JSON.stringify(write.value),
    value_type: write.valueType,
    updated_by: write.updatedBy,
  }).onConflict((oc) => oc.columns(['namespace', 'key']).doUpdateSet({
    value: (eb) => eb.ref('excluded.value'),
    value_type: (eb) => eb.ref('excluded.value_type'),
    updated_by: (eb) => eb.ref('excluded.updated_by'),
    updated_at: sql`now()`,
  })).execute();
}

export async function deleteStoredSetting(db: Kysely<Database>, namespace: string, key: string): Promise<boolean> {
  const result = await db.deleteFrom('system_settings').where('namespace', '=', namespace).where('key', '=', key)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
