import { sql, type Kysely } from 'kysely';

/**
 * Tenancy (issue 6): plans sell IPv4 addresses too, so plans, totals and quota overrides gain an IPv4 count;
 * IP pools and the addresses allocated from them to pods.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table cloud_resource_plans
      add column ipv4_count integer not null default 0 constraint cloud_resource_plans_ipv4_count_check check (ipv4_count >= 0);
    alter table cloud_tenant_resource_totals
      add column ipv4_total integer not null default 0 constraint cloud_tenant_resource_totals_ipv4_total_check check (ipv4_total >= 0);
    alter table cloud_pod_quotas
      add column max_ipv4 integer null constraint cloud_pod_quotas_max_ipv4_check check (max_ipv4 >= 0);
    comment on column cloud_pod_quotas.max_ipv4 is 'Null means unlimited.';
    comment on column cloud_resource_plans.ipv4_count is 'Public IPv4 addresses included per unit of the plan.';
  `.execute(db);

  await sql`
    create table cloud_ip_pools (
      id uuid primary key default gen_random_uuid(),
      name text not null unique constraint cloud_ip_pools_name_check check (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
      family smallint not null constraint cloud_ip_pools_family_check check (family in (4, 6)),
      cidr cidr not null,
      gateway inet not null,
      range_start inet not null,
      range_end inet not null,
      bridge text not null,
      vlan integer null constraint cloud_ip_pools_vlan_check check (vlan between 1 and 4094),
      nodes text[] not null default '{}',
      nameservers inet[] not null default '{}',
      is_active boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint cloud_ip_pools_family_matches check (family(cidr) = family and family(gateway) = family
        and family(range_start) = family and family(range_end) = family),
      constraint cloud_ip_pools_inside_cidr check (gateway << cidr and range_start << cidr and range_end << cidr),
      constraint cloud_ip_pools_range_order check (range_start <= range_end)
    );
    comment on table cloud_ip_pools is 'Address pools pods get their IPs from; nodes lists the Proxmox nodes a pool serves (empty: all).';

    create table cloud_ip_allocations (
      id uuid primary key default gen_random_uuid(),
      pool_id uuid not null references cloud_ip_pools (id) on delete restrict,
      address inet not null,
      tenant_id uuid not null references tenants (id) on delete restrict,
      pod_id uuid not null references cloud_pods (id) on delete cascade,
      family smallint not null constraint cloud_ip_allocations_family_check check (family in (4, 6)),
      allocated_at timestamptz not null default now(),
      constraint cloud_ip_allocations_address_unique unique (pool_id, address),
      constraint cloud_ip_allocations_pod_pool_unique unique (pod_id, pool_id)
    );
    create index cloud_ip_allocations_tenant_idx on cloud_ip_allocations (tenant_id, family);
    comment on table cloud_ip_allocations is 'One address of a pool held by one pod; deleted when the pod releases it or is removed.';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table if exists cloud_ip_allocations;
    drop table if exists cloud_ip_pools;
    alter table cloud_pod_quotas drop column if exists max_ipv4;
    alter table cloud_tenant_resource_totals drop column if exists ipv4_total;
    alter table cloud_resource_plans drop column if exists ipv4_count;
  `.execute(db);
}
