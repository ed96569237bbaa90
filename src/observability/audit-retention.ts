import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { NumberSettings } from '../jobs/policy.ts';
import { daysAgo, deleteOlderThan } from '../jobs/batched-delete.ts';
import type { MaintenanceTask } from '../jobs/maintenance.ts';

/** Deletes audit entries older than `cloudpods.audit.retention_days`, in small batches; scheduled daily. */
export async function pruneAudit(db: Kysely<Database>, settings: NumberSettings): Promise<number> {
  return deleteOlderThan(db, 'cloud_pod_audit', daysAgo(await settings.getNumber('cloudpods.audit.retention_days')));
}

/** The retention as a daily maintenance pass. */
export const auditRetentionTask = (db: Kysely<Database>, settings: NumberSettings): MaintenanceTask => ({
  type: 'audit.prune', minute: 20, run: async () => ({ deleted: await pruneAudit(db, settings) }),
});
