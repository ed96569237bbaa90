import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { recordAudit, actorLabel, type Actor } from '../observability/audit.ts';
import type { SystemSettingsService } from '../settings/service.ts';
import { QuotaExceededError, TenantSuspendedError, quotaResources, type QuotaResource, type QuotaViolation }
  from './errors.ts';
import { expireEndedSubscriptions } from './subscriptions.ts';

/** A limit per resource; null is unlimited. */
export type Limits = Record<QuotaResource, number | null>;
export type Usage = Record<QuotaResource, number>;

export interface TenantQuota {
  /** Where the limits come from, in the order of spec 3.3. */
  source: 'override' | 'subscriptions' | 'default';
  limits: Limits;
}

export interface QuotaReportLine {
  limit: number | null;
  used: number;
  available: number | null;
}

export type QuotaReport = { source: TenantQuota['source'] } & Record<QuotaResource, QuotaReportLine>;

/** An override sets every limit; bandwidth and IPv4 may be unlimited (null). */
export interface QuotaOverride {
  pods: number;
  cpu_cores: number;
  memory_mb: number;
  disk_gb: number;
  bandwidth_gb: number | null;
  ipv4: number | null;
}

/** Pure: what an order of `requested` resources would exceed. */
export function quotaViolations(limits: Limits, usage: Usage, requested: Partial<Usage>): QuotaViolation[] {
  const violations: QuotaViolation[] = [];
  for (const resource of quotaResources) {
    const want = requested[resource] ?? 0;
    const limit = limits[resource];
    if (want > 0 && limit !== null && usage[resource] + want > limit) {
      violations.push({ resource, requested: want, used: usage[resource], limit });
    }
  }
  return violations;
}

/**
 * CloudPodQuotasService (spec 3.3): a tenant's limits and usage, and the reservation every creating or growing
 * transaction calls.
 */
export class CloudPodQuotasService {
  readonly #db: Kysely<Database>;
  readonly #settings: SystemSettingsService;

  constructor(db: Kysely<Database>, settings: SystemSettingsService) {
    this.#db = db;
    this.#settings = settings;
  }

  async #defaults(): Promise<Limits> {
    const s = this.#settings;
    const [pods, cpu, memory, disk, bandwidth, ipv4] = await Promise.all([
      s.getNumber('cloudpods.quota.default_max_pods'), s.getNumber('cloudpods.quota.default_max_cpu_cores'),
      s.getNumber('cloudpods.quota.default_max_memory_mb'), s.getNumber('cloudpods.quota.default_max_disk_gb'),
      s.getNumber('cloudpods.quota.default_max_bandwidth_gb'), s.getNumber('cloudpods.quota.default_max_ipv4'),
    ]);
    return { pods, cpu_cores: cpu, memory_mb: memory, disk_gb: disk, bandwidth_gb: bandwidth, ipv4 };
  }

  /** A per-tenant override wins; else the totals of active subscriptions; else the defaults from settings. */
  async getTenantQuota(tenantId: string, db: Kysely<Database> = this.#db): Promise<TenantQuota> {
    const override = await db.selectFrom('cloud_pod_quotas').selectAll().where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    if (override) {
      return { source: 'override', limits: {
        pods: override.max_pods, cpu_cores: override.max_cpu_cores, memory_mb: override.max_memory_mb,
        disk_gb: override.max_disk_gb, bandwidth_gb: override.max_bandwidth_gb, ipv4: override.max_ipv4,
      } };
    }
    await expireEndedSubscriptions(db, tenantId);
    const active = await db.selectFrom('cloud_tenant_resource_subscriptions').select('id')
      .where('tenant_id', '=', tenantId).where('status', '=', 'active').limit(1).executeTakeFirst();
    if (!active) return { source: 'default', limits: await this.#defaults() };
    const totals = await db.selectFrom('cloud_tenant_resource_totals').selectAll().where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return { source: 'subscriptions', limits: {
      pods: totals.pods_total, cpu_cores: totals.cpu_cores_total, memory_mb: totals.memory_mb_total,
      disk_gb: totals.disk_gb_total, bandwidth_gb: totals.bandwidth_gb_total, ipv4: totals.ipv4_total,
    } };
  }

  /**
   * What the tenant's live orders hold, counted from the rows an order writes, so an order sees every order
   * committed before it whether or not the controller has acted on it yet: every pod row counts until it is gone
   * (pods being deleted too), with its cores, memory and disk; volumes add their sizes to disk; and each pod row
   * holds one IPv4 address from the moment it is ordered (the controller allocates it later, never more than one).
   * Bandwidth used comes from the metrics collector; until it reports, it is 0.
   */
  async getTenantUsage(tenantId: string, db: Kysely<Database> = this.#db): Promise<Usage> {
    const [pods, volumes] = await Promise.all([
      db.selectFrom('cloud_pods').where('tenant_id', '=', tenantId).select([
        sql<number>`count(*)::int`.as('pods'),
        sql<number>`coalesce(sum(cpu_cores), 0)::int`.as('cpu_cores'),
        sql<number>`coalesce(sum(memory_mb), 0)::int`.as('memory_mb'),
        sql<number>`coalesce(sum(disk_gb), 0)::int`.as('disk_gb'),
      ]).executeTakeFirstOrThrow(),
      db.selectFrom('cloud_pod_volumes').where('tenant_id', '=', tenantId)
        .select(sql<number>`coalesce(sum(size_gb), 0)::int`.as('disk_gb')).executeTakeFirstOrThrow(),
    ]);
    return { pods: pods.pods, cpu_cores: pods.cpu_cores, memory_mb: pods.memory_mb,
      disk_gb: pods.disk_gb + volumes.disk_gb, bandwidth_gb: 0, ipv4: pods.pods };
  }

  async getQuotaReport(tenantId: string): Promise<QuotaReport> {
    const [quota, usage] = await Promise.all([this.getTenantQuota(tenantId), this.getTenantUsage(tenantId)]);
    const report = { source: quota.source } as QuotaReport;
    for (const resource of quotaResources) {
      const limit = quota.limits[resource];
      report[resource] = { limit, used: usage[resource],
        available: limit === null ? null : Math.max(0, limit - usage[resource]) };
    }
    return report;
  }

  /**
   * Checks an order against the quota inside the caller's transaction, holding the tenant row's lock until it
   * commits: concurrent orders of one tenant queue here, and each sees what the previous ones created.
   * A suspended tenant orders nothing.
   */
  async reserve(trx: Kysely<Database>, tenantId: string, requested: Partial<Usage>): Promise<void> {
    const tenant = await trx.selectFrom('tenants').select(['slug', 'status']).where('id', '=', tenantId).forUpdate()
      .executeTakeFirstOrThrow();
    if (tenant.status === 'suspended') throw new TenantSuspendedError(tenant.slug);
    const [quota, usage] = await Promise.all([this.getTenantQuota(tenantId, trx), this.getTenantUsage(tenantId, trx)]);
    const violations = quotaViolations(quota.limits, usage, requested);
    if (violations.length > 0) throw new QuotaExceededError(violations);
  }

  async setOverride(tenantId: string, limits: QuotaOverride, actor: Actor, requestId?: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const values = {
        max_pods: limits.pods, max_cpu_cores: limits.cpu_cores, max_memory_mb: limits.memory_mb,
        max_disk_gb: limits.disk_gb, max_bandwidth_gb: limits.bandwidth_gb, max_ipv4: limits.ipv4,
        updated_by: actorLabel(actor),
      };
      await trx.insertInto('cloud_pod_quotas').values({ tenant_id: tenantId, ...values })
        .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...values, updated_at: sql`now()` })).execute();
      await recordAudit(trx, { actor, category: 'quota', action: 'quota.override_set', tenantId, requestId,
        details: { limits } });
    });
  }

  async clearOverride(tenantId: string, actor: Actor, requestId?: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const removed = await trx.deleteFrom('cloud_pod_quotas').where('tenant_id', '=', tenantId).executeTakeFirst();
      if (removed.numDeletedRows === 0n) return false;
      await recordAudit(trx, { actor, category: 'quota', action: 'quota.override_cleared', tenantId, requestId });
      return true;
    });
  }
}
