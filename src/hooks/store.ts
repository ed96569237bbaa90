import { sql, type Kysely } from 'kysely';
import type { Database, HookEvent, HookRow, NewHook, HookUpdate } from '../db/schema.ts';

/** One function per SQL operation on cloud_pod_hooks (its deliveries: ledger.ts). */

type Db = Kysely<Database>;

/** A hook as readers get it: every column but the signing secret, which only its creation and rotation reveal. */
export type Hook = Omit<HookRow, 'signing_secret'>;

const hookColumns = ['id', 'tenant_id', 'name', 'event', 'type', 'target', 'is_active', 'config', 'managed_by',
  'generation', 'observed_generation', 'conditions', 'deletion_requested_at', 'kube_uid', 'kube_namespace',
  'kube_name', 'created_at', 'updated_at'] as const satisfies readonly (keyof Hook)[];

export function findHook(db: Db, id: string): Promise<Hook | undefined> {
  return db.selectFrom('cloud_pod_hooks').select(hookColumns).where('id', '=', id).executeTakeFirst();
}

export function findHookOfResource(db: Db, kubeUid: string): Promise<Hook | undefined> {
  return db.selectFrom('cloud_pod_hooks').select(hookColumns).where('kube_uid', '=', kubeUid).executeTakeFirst();
}

/** Locks the hook row for the rest of the transaction: spec writers and delivery's condition writes queue here. */
export function lockHook(db: Db, id: string): Promise<Hook | undefined> {
  return db.selectFrom('cloud_pod_hooks').select(hookColumns).where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Serialises the writers of one tenant's hook names (no unique index backs them): FOR NO KEY UPDATE conflicts with
 * itself and with the quota's FOR UPDATE, but not with the key-share locks of inserts that reference the tenant.
 * False when the tenant does not exist.
 */
export async function lockTenantHookNames(db: Db, tenantId: string): Promise<boolean> {
  const row = await db.selectFrom('tenants').select('id').where('id', '=', tenantId).forNoKeyUpdate().executeTakeFirst();
  return row !== undefined;
}

/** Whether another hook of the tenant has this name (call under lockTenantHookNames). */
export async function hookNameTaken(db: Db, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
  let query = db.selectFrom('cloud_pod_hooks').select('id').where('tenant_id', '=', tenantId).where('name', '=', name);
  if (exceptId) query = query.where('id', '<>', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** Inserts a hook; its signing secret is made by the database (migration 0011) and returned only here. */
export async function insertHook(db: Db, row: Omit<NewHook, 'signing_secret'>): Promise<{ hook: Hook; signingSecret: string }> {
  const { signing_secret: signingSecret, ...hook } = await db.insertInto('cloud_pod_hooks').values(row)
    .returning([...hookColumns, 'signing_secret']).executeTakeFirstOrThrow();
  return { hook, signingSecret };
}

/** A spec change: the generation moves. */
export async function updateHookSpec(db: Db, id: string,
  spec: Pick<HookUpdate, 'name' | 'target' | 'is_active' | 'config'>): Promise<Hook> {
  return db.updateTable('cloud_pod_hooks').set({ ...spec, generation: sql`generation + 1`, updated_at: sql`now()` })
    .where('id', '=', id).returning(hookColumns).executeTakeFirstOrThrow();
}

/** Replaces the signing secret; not a spec change (deliveries read the secret when they sign). */
export async function setSigningSecret(db: Db, id: string, secret: string): Promise<Hook> {
  return db.updateTable('cloud_pod_hooks').set({ signing_secret: secret, updated_at: sql`now()` })
    .where('id', '=', id).returning(hookColumns).executeTakeFirstOrThrow();
}

export async function deleteHookRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('cloud_pod_hooks').where('id', '=', id).execute();
}

export interface HookFilter {
  tenantId?: string;
  event?: HookEvent;
  active?: boolean;
}

export async function listHooks(db: Db, filter: HookFilter, page: { limit: number; offset: number })
  : Promise<{ hooks: Hook[]; total: number }> {
  let query = db.selectFrom('cloud_pod_hooks');
  if (filter.tenantId) query = query.where('tenant_id', '=', filter.tenantId);
  if (filter.event) query = query.where('event', '=', filter.event);
  if (filter.active !== undefined) query = query.where('is_active', '=', filter.active);
  const [hooks, count] = await Promise.all([
    query.select(hookColumns).orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    query.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { hooks, total: count.n };
}
