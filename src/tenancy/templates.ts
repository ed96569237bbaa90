import { sql, type Kysely, type Selectable } from 'kysely';
import type { CloudPodTemplatesTable, Database, TemplateType } from '../db/schema.ts';
import { recordAudit, type Actor } from '../observability/audit.ts';
import { assertTemplateInCluster } from '../proxmox/cluster-checks.ts';
import type { ClusterLookup } from '../proxmox/cluster-lookup.ts';
import { PlanRequiredError } from './errors.ts';
import { planCovers } from './plans.ts';
import { isAppStack, stackOptionSchemas, type AppStack, type StackOptions } from './stacks.ts';
import { z } from 'zod';

export type Template = Selectable<CloudPodTemplatesTable>;

export interface TemplateFilter {
  type?: TemplateType;
  tag?: string;
  includeInactive?: boolean;
}

export async function listTemplates(db: Kysely<Database>, filter: TemplateFilter = {}): Promise<Template[]> {
  let query = db.selectFrom('cloud_pod_templates').selectAll().orderBy('type').orderBy('code');
  if (!filter.includeInactive) query = query.where('is_active', '=', true);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.tag) query = query.where(sql<boolean>`tags @> ${JSON.stringify([filter.tag])}::jsonb`);
  return query.execute();
}

export function findTemplate(db: Kysely<Database>, code: string): Promise<Template | undefined> {
  return db.selectFrom('cloud_pod_templates').selectAll().where('code', '=', code).executeTakeFirst();
}

export interface TemplateFields {
  code: string;
  name: string;
  type: TemplateType;
  description?: string | null;
  proxmox_template_vmid: number;
  default_node?: string | null;
  storage_pool: string;
  network_bridge: string;
  app_stack?: AppStack | null;
  minimum_plan_code?: string | null;
  tags?: string[];
  is_active?: boolean;
}

function toRow(fields: Partial<TemplateFields>) {
  const { tags, ...rest } = fields;
  return tags === undefined ? rest : { ...rest, tags: JSON.stringify(tags) };
}

/**
 * Stores a template. With the cluster at hand (the API's writes), `proxmox_template_vmid` must be a template VM of
 * it, `default_node` a node and `storage_pool` a storage for VM disks on either (422 naming the field); the seed and
 * tests that write catalogue rows directly pass none.
 */
export async function createTemplate(db: Kysely<Database>, fields: TemplateFields, actor: Actor,
  cluster: ClusterLookup | null = null): Promise<Template> {
  const inCluster = { ...fields, default_node: fields.default_node ?? null };
  await assertTemplateInCluster(cluster, inCluster, inCluster);
  return db.transaction().execute(async (trx) => {
    const row = await trx.insertInto('cloud_pod_templates').values(toRow(fields) as TemplateFields & { tags?: string })
      .returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, category: 'lifecycle', action: 'template.created',
      details: { template: row.code, ...fields } });
    return row;
  });
}

/** Changes a template; the cluster names it changes are checked as on creation, against the template changed. */
export async function updateTemplate(db: Kysely<Database>, code: string, changes: Partial<Omit<TemplateFields, 'code'>>,
  actor: Actor, cluster: ClusterLookup | null = null): Promise<Template | undefined> {
  const current = cluster && await findTemplate(db, code);
  if (current) {
    await assertTemplateInCluster(cluster, {
      proxmox_template_vmid: changes.proxmox_template_vmid ?? current.proxmox_template_vmid,
      default_node: changes.default_node === undefined ? current.default_node : changes.default_node,
      storage_pool: changes.storage_pool ?? current.storage_pool,
    }, changes);
  }
  return db.transaction().execute(async (trx) => {
    const row = await trx.updateTable('cloud_pod_templates').set({ ...toRow(changes), updated_at: sql`now()` })
      .where('code', '=', code).returningAll().executeTakeFirst();
    if (row) {
      await recordAudit(trx, { actor, category: 'lifecycle',
        action: changes.is_active === false ? 'template.deactivated' : 'template.updated',
        details: { template: code, changes } });
    }
    return row;
  });
}

/**
 * Spec 4 "validate plan supports template": a template with a minimum plan needs the tenant to hold an active
 * subscription to that plan or to a plan that covers it (at least as much of every resource; see `planCovers`).
 */
export async function validateTemplateForTenant(db: Kysely<Database>, template: Template, tenantId: string)
  : Promise<void> {
  if (!template.minimum_plan_code) return;
  const minimum = await db.selectFrom('cloud_resource_plans').selectAll().where('code', '=', template.minimum_plan_code)
    .executeTakeFirstOrThrow();
  const held = await db.selectFrom('cloud_tenant_resource_subscriptions as s')
    .innerJoin('cloud_resource_plans as p', 'p.id', 's.plan_id')
    .select(['p.cpu_cores', 'p.memory_mb', 'p.disk_gb', 'p.ipv4_count'])
    .where('s.tenant_id', '=', tenantId).where('s.status', '=', 'active')
    .where((eb) => eb.or([eb('s.ends_at', 'is', null), eb('s.ends_at', '>', sql<Date>`now()`)]))
    .execute();
  if (!held.some((plan) => planCovers(plan, minimum))) throw new PlanRequiredError(template.code, minimum.code);
}

/** OS-only templates accept no app options. */
const noOptions = z.strictObject({});

export type AppOptionsResult =
  | { ok: true; stack: AppStack | null; options: StackOptions[AppStack] | Record<string, never> }
  | { ok: false; error: z.ZodError };

/** Validates a pod's app options against its template's stack; OS templates take none. */
export function parseAppOptions(template: Template, options: unknown): AppOptionsResult {
  const stack = template.app_stack;
  if (!stack || !isAppStack(stack)) {
    const empty = noOptions.safeParse(options ?? {});
    return empty.success ? { ok: true, stack: null, options: {} } : { ok: false, error: empty.error };
  }
  const parsed = stackOptionSchemas[stack].safeParse(options ?? {});
  return parsed.success ? { ok: true, stack, options: parsed.data } : { ok: false, error: parsed.error };
}
