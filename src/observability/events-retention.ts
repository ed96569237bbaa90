import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { NumberSettings } from '../jobs/policy.ts';
import { daysAgo, deleteOlderThan } from '../jobs/batched-delete.ts';
import type { MaintenanceTask } from '../jobs/maintenance.ts';

/** Deletes system events older than `cloudpods.events.retention_days`, in small batches; scheduled daily. */
export async function pruneSystemEvents(db: Kysely<Database>, settings: NumberSettings): Promise<number> {
  return deleteOlderThan(db, 'system_events', daysAgo(await settings.getNumber('cloudpods.events.retention_days')));
}

/** The retention as a daily maintenance pass. */
export const systemEventsRetentionTask = (db: Kysely<Database>, settings: NumberSettings): MaintenanceTask => ({
  type: 'system_events.prune', minute: 30, run: async () => ({ deleted: await pruneSystemEvents(db, settings) }),
});
