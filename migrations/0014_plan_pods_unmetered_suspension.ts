import { sql, type Kysely } from 'kysely';

/**
 * Issue 14. Plans sell a number of pods per unit, as they sell IPv4 addresses, and the totals carry the sum, so
 * subscriptions raise the pod limit as they raise CPU and memory. Existing plans get as many pods as addresses: every
 * pod holds one IPv4 address, so that is what their subscribers could run already. A plan without bandwidth is
 * unmetered, so a tenant holding one has no bandwidth total (null). A pod records when its tenant's suspension
 * stopped it, so reinstating the tenant starts exactly those pods again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_resource_plans
      add column pods_count integer not null default 0
        constraint cloud_resource_plans_pods_count_check check (pods_count >= 0);
    update cloud_resource_plans set pods_count = ipv4_count;
    comment on column cloud_resource_plans.pods_count is 'Pods included per unit of the plan.';
    comment on column cloud_resource_plans.bandwidth_gb is 'Monthly bandwidth per unit; null: unmetered.';

    alter table cloud_tenant_resource_totals
      add column pods_total integer not null default 0
        constraint cloud_tenant_resource_totals_pods_total_check check (pods_total >= 0),
      alter column bandwidth_gb_total drop not null;
    comment on column cloud_tenant_resource_totals.bandwidth_gb_total is 'Null: an active subscription is unmetered.';
    update cloud_tenant_resource_totals t
       set pods_total = x.pods_total, bandwidth_gb_total = x.bandwidth_gb_total, updated_at = now()
      from (select s.tenant_id, sum(s.quantity * p.pods_count)::int as pods_total,
                   case when bool_or(p.bandwidth_gb is null) then null
                        else sum(s.quantity * p.bandwidth_gb)::int end as bandwidth_gb_total
              from cloud_tenant_resource_subscriptions s join cloud_resource_plans p on p.id = s.plan_id
             where s.status = 'active' and (s.ends_at is null or s.ends_at > now())
             group by s.tenant_id) x
     where x.tenant_id = t.tenant_id;

    alter table cloud_pods add column suspension_stopped_at timestamptz null;
    comment on column cloud_pods.suspension_stopped_at is 'When the tenant''s suspension powered the pod off; reinstating the tenant starts it again.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_pods drop column if exists suspension_stopped_at;
    update cloud_tenant_resource_totals t
       set bandwidth_gb_total = coalesce((select sum(s.quantity * coalesce(p.bandwidth_gb, 0))::int
              from cloud_tenant_resource_subscriptions s join cloud_resource_plans p on p.id = s.plan_id
             where s.tenant_id = t.tenant_id and s.status = 'active' and (s.ends_at is null or s.ends_at > now())), 0)
     where bandwidth_gb_total is null;
    alter table cloud_tenant_resource_totals alter column bandwidth_gb_total set not null,
      drop column if exists pods_total;
    alter table cloud_resource_plans drop column if exists pods_count;
    comment on column cloud_resource_plans.bandwidth_gb is 'Monthly bandwidth per unit; null when the plan includes none.';
  `.execute(db);
}
