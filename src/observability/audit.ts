import type { Kysely } from 'kysely';
import type { AuditCategory, Database } from '../db/schema.ts';

export type ActorType = 'user' | 'token' | 'system' | 'controller' | 'kubernetes';

/** Who did something: a token through the API, the CLI or a controller. */
export interface Actor {
  type: ActorType;
  id: string | null;
}

export const systemActor = (id: string): Actor => ({ type: 'system', id });

/** `token:3f2…` style label for `updated_by`-like columns. */
export const actorLabel = (actor: Actor): string => (actor.id ? `${actor.type}:${actor.id}` : actor.type);

export interface AuditEntry {
  actor: Actor;
  category: AuditCategory;
  action: string;
  tenantId?: string | null;
  podId?: string | null;
  details?: Record<string, unknown>;
  requestId?: string | null;
}

/** Records a business action; pass the transaction that makes the change so both commit or neither does. */
export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db.insertInto('cloud_pod_audit').values({
    actor_type: entry.actor.type,
    actor_id: entry.actor.id,
    category: entry.category,
    action: entry.action,
    tenant_id: entry.tenantId ?? null,
    pod_id: entry.podId ?? null,
    details: JSON.stringify(entry.details ?? {}),
    request_id: entry.requestId ?? null,
  }).execute();
}
