import { sql, type Kysely } from 'kysely';

/**
 * The complete CloudPods data model (spec: /work/shared/spec/enterprise-core-spec.md; object model: ARCHITECTURE.md).
 *
 * Conventions:
 * - business objects have `uuid` ids; log-like tables (settings, events, audit, jobs, job attempts) have identity ids;
 * - every enumerated column has a CHECK named `<table>_<column>_check`, other checks are named after what they guard;
 *   PostgreSQL evaluates CHECKs in name order, so checks spanning columns are written to pass for an unknown
 *   enum value, leaving the error to the enum's own check;
 * - jsonb columns say their shape (array or object) in a CHECK;
 * - regexes use `[.]` for a literal dot: a backslash in this template literal would be eaten by JavaScript.
 *
 * This file is frozen once released: it must not import application code, whose enums will move on.
 */

/** RFC 1123 label: lowercase letters, digits and inner hyphens, at most 63 characters. */
const LABEL = `'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`;
/** RFC 1123 host name: labels joined by dots, lowercase, no trailing dot. Length is checked separately (<= 253). */
const HOSTNAME = `'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$'`;
const IPV4 = `'^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'`;
/** Lowercase IPv6 text: hex groups and colons (the API canonicalises addresses before storing them). */
const IPV6 = `'^[0-9a-f:]{2,39}$'`;

/**
 * The shared object-model columns of the desired-state tables (ARCHITECTURE.md, "Shared object model"),
 * placed after the spec's columns and before created_at/updated_at.
 */
function objectModelColumns(table: string) {
  return sql.raw(`
  managed_by            text        not null default 'api'
    constraint ${table}_managed_by_check check (managed_by in ('api', 'kubernetes')),
  generation            bigint      not null default 1
    constraint ${table}_generation_check check (generation >= 1),
  observed_generation   bigint      not null default 0
    constraint ${table}_observed_generation_check check (observed_generation >= 0 and observed_generation <= generation),
  conditions            jsonb       not null default '[]'
    constraint ${table}_conditions_check check (jsonb_typeof(conditions) = 'array'),
  deletion_requested_at timestamptz,
  kube_uid              text,
  kube_namespace        text,
  kube_name             text,
  constraint ${table}_kube_identity_check check (
    managed_by <> 'kubernetes' or (kube_uid is not null and kube_namespace is not null and kube_name is not null)),`);
}

function objectModelIndexesAndComments(table: string) {
  return sql.raw(`
create unique index ${table}_kube_uid_key on ${table} (kube_uid) where kube_uid is not null;
comment on column ${table}.managed_by is 'Front door that owns the spec columns: api or kubernetes. One writer per field.';
comment on column ${table}.generation is 'Bumped whenever the spec (desired state) changes, including a deletion request.';
comment on column ${table}.observed_generation is 'The generation the controller last reconciled.';
comment on column ${table}.conditions is 'Array of Kubernetes metav1.Condition-shaped objects; Ready is always present once reconciled.';
comment on column ${table}.deletion_requested_at is 'Set when deletion is requested; the controller tears down, then removes the row.';
comment on column ${table}.kube_uid is 'metadata.uid of the Kubernetes resource, for rows with managed_by = kubernetes.';`);
}

export async function up(db: Kysely<any>): Promise<void> {
  // ---------------------------------------------------------------- tenancy and access

  await sql`
create table tenants (
  id         uuid        primary key default gen_random_uuid(),
  slug       text        not null
    constraint tenants_slug_key unique
    constraint tenants_slug_check check (slug ~ ${sql.raw(LABEL)}),
  name       text        not null,
  status     text        not null default 'active'
    constraint tenants_status_check check (status in ('active', 'suspended')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table tenants is 'Customers of the platform. Every pod, volume, DNS record and hook belongs to one tenant.';
`.execute(db);

  await sql`
create table api_tokens (
  id           uuid        primary key default gen_random_uuid(),
  name         text        not null,
  token_hash   text        not null
    constraint api_tokens_token_hash_key unique
    constraint api_tokens_token_hash_check check (token_hash ~ '^[0-9a-f]{64}$'),
  token_prefix text        not null,
  tenant_id    uuid
    constraint api_tokens_tenant_id_fkey references tenants (id) on delete cascade,
  permissions  text[]      not null default '{}'
    constraint api_tokens_permissions_check check (permissions <@ array[
      'settings.manage', 'cloudpods.view', 'cloudpods.manage', 'cloudpods.volumes.manage',
      'health.view', 'hooks.manage', 'plans.manage']::text[]),
  is_admin     boolean     not null default false,
  created_by   text        not null,
  created_at   timestamptz not null default now(),
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  constraint api_tokens_scope_check check (tenant_id is not null or is_admin)
);
create index api_tokens_tenant_id_idx on api_tokens (tenant_id);
comment on table api_tokens is 'Bearer API tokens (cpk_...), stored as SHA-256 hashes. A token without a tenant is a platform admin token.';
comment on column api_tokens.token_hash is 'Lowercase hex SHA-256 of the whole token; the token itself is shown once and never stored.';
comment on column api_tokens.token_prefix is 'First characters of the token, shown so people can recognise it.';
comment on column api_tokens.created_by is 'Actor that created the token (token id, user id or "system").';
`.execute(db);

  await sql`
create table system_settings (
  id         bigint      generated always as identity primary key,
  namespace  text        not null
    constraint system_settings_namespace_check check (namespace ~ '^[a-z][a-z0-9_-]*$'),
  key        text        not null
    constraint system_settings_key_check check (key ~ '^[a-z0-9_]+([.][a-z0-9_]+)*$'),
  value      jsonb       not null,
  value_type text        not null
    constraint system_settings_value_type_check check (value_type in ('string', 'number', 'boolean', 'json')),
  updated_by text,
  updated_at timestamptz not null default now(),
  constraint system_settings_namespace_key_key unique (namespace, key),
  constraint system_settings_value_type_matches_check check (value_type = 'json' or jsonb_typeof(value) = value_type)
);
comment on table system_settings is 'Global configuration (spec 1): thresholds, intervals, retry policy, retention, default quotas, branding. Read through SystemSettingsService; a missing row means the registered default.';
comment on column system_settings.key is 'Key inside the namespace, e.g. auto_heal.enabled in namespace cloudpods.';
comment on column system_settings.updated_by is 'Actor id of the last change.';
`.execute(db);

  // ---------------------------------------------------------------- plans, subscriptions and quotas (spec 3)

  await sql`
create table cloud_resource_plans (
  id            uuid          primary key default gen_random_uuid(),
  code          text          not null
    constraint cloud_resource_plans_code_key unique
    constraint cloud_resource_plans_code_check check (code ~ ${sql.raw(LABEL)}),
  name          text          not null,
  description   text,
  cpu_cores     integer       not null constraint cloud_resource_plans_cpu_cores_check check (cpu_cores >= 0),
  memory_mb     integer       not null constraint cloud_resource_plans_memory_mb_check check (memory_mb >= 0),
  disk_gb       integer       not null constraint cloud_resource_plans_disk_gb_check check (disk_gb >= 0),
  bandwidth_gb  integer       constraint cloud_resource_plans_bandwidth_gb_check check (bandwidth_gb >= 0),
  price_monthly numeric(12,2) not null constraint cloud_resource_plans_price_monthly_check check (price_monthly >= 0),
  is_active     boolean       not null default true,
  created_at    timestamptz   not null default now(),
  updated_at    timestamptz   not null default now()
);
comment on table cloud_resource_plans is 'Resource packs (CPU, RAM, disk, bandwidth) that tenants subscribe to (spec 3). A pack may add only some resources, so amounts may be 0.';
comment on column cloud_resource_plans.bandwidth_gb is 'Monthly bandwidth per unit; null when the plan includes none.';
`.execute(db);

  await sql`
create table cloud_tenant_resource_subscriptions (
  id         uuid        primary key default gen_random_uuid(),
  tenant_id  uuid        not null
    constraint cloud_tenant_resource_subscriptions_tenant_id_fkey references tenants (id) on delete cascade,
  plan_id    uuid        not null
    constraint cloud_tenant_resource_subscriptions_plan_id_fkey references cloud_resource_plans (id) on delete restrict,
  quantity   integer     not null
    constraint cloud_tenant_resource_subscriptions_quantity_check check (quantity > 0),
  status     text        not null default 'active'
    constraint cloud_tenant_resource_subscriptions_status_check check (status in ('active', 'cancelled')),
  started_at timestamptz not null default now(),
  ends_at    timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint cloud_tenant_resource_subscriptions_cancelled_check check (status <> 'cancelled' or ends_at is not null),
  constraint cloud_tenant_resource_subscriptions_period_check check (ends_at is null or ends_at >= started_at)
);
create index cloud_tenant_resource_subscriptions_active_idx
  on cloud_tenant_resource_subscriptions (tenant_id) where status = 'active';
create index cloud_tenant_resource_subscriptions_tenant_id_idx on cloud_tenant_resource_subscriptions (tenant_id);
create index cloud_tenant_resource_subscriptions_plan_id_idx on cloud_tenant_resource_subscriptions (plan_id);
comment on table cloud_tenant_resource_subscriptions is 'A tenant''s subscription to quantity units of a resource plan (spec 3). Cancelled subscriptions keep their row with ends_at.';
`.execute(db);

  await sql`
create table cloud_tenant_resource_totals (
  id                 uuid        primary key default gen_random_uuid(),
  tenant_id          uuid        not null
    constraint cloud_tenant_resource_totals_tenant_id_key unique
    constraint cloud_tenant_resource_totals_tenant_id_fkey references tenants (id) on delete cascade,
  cpu_cores_total    integer     not null default 0
    constraint cloud_tenant_resource_totals_cpu_cores_total_check check (cpu_cores_total >= 0),
  memory_mb_total    integer     not null default 0
    constraint cloud_tenant_resource_totals_memory_mb_total_check check (memory_mb_total >= 0),
  disk_gb_total      integer     not null default 0
    constraint cloud_tenant_resource_totals_disk_gb_total_check check (disk_gb_total >= 0),
  bandwidth_gb_total integer     not null default 0
    constraint cloud_tenant_resource_totals_bandwidth_gb_total_check check (bandwidth_gb_total >= 0),
  updated_at         timestamptz not null default now()
);
comment on table cloud_tenant_resource_totals is 'Per tenant, the sum of its active subscriptions (quantity x plan amounts), recomputed when subscriptions change (spec 3.2). Source of derived quotas.';
`.execute(db);

  await sql`
create table cloud_pod_quotas (
  id               uuid        primary key default gen_random_uuid(),
  tenant_id        uuid        not null
    constraint cloud_pod_quotas_tenant_id_key unique
    constraint cloud_pod_quotas_tenant_id_fkey references tenants (id) on delete cascade,
  max_pods         integer     not null constraint cloud_pod_quotas_max_pods_check check (max_pods >= 0),
  max_cpu_cores    integer     not null constraint cloud_pod_quotas_max_cpu_cores_check check (max_cpu_cores >= 0),
  max_memory_mb    integer     not null constraint cloud_pod_quotas_max_memory_mb_check check (max_memory_mb >= 0),
  max_disk_gb      integer     not null constraint cloud_pod_quotas_max_disk_gb_check check (max_disk_gb >= 0),
  max_bandwidth_gb integer     constraint cloud_pod_quotas_max_bandwidth_gb_check check (max_bandwidth_gb >= 0),
  updated_by       text,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);
comment on table cloud_pod_quotas is 'Per-tenant quota override. When a tenant has no row, its quota is derived from cloud_tenant_resource_totals, else the default quota setting (spec 3.3).';
comment on column cloud_pod_quotas.max_bandwidth_gb is 'Null means unlimited.';
`.execute(db);

  // ---------------------------------------------------------------- templates (spec 4)

  await sql`
create table cloud_pod_templates (
  id                    uuid        primary key default gen_random_uuid(),
  code                  text        not null
    constraint cloud_pod_templates_code_key unique
    constraint cloud_pod_templates_code_check check (code ~ ${sql.raw(LABEL)}),
  name                  text        not null,
  type                  text        not null
    constraint cloud_pod_templates_type_check check (type in ('os', 'app')),
  description           text,
  proxmox_template_vmid integer     not null
    constraint cloud_pod_templates_proxmox_template_vmid_check check (proxmox_template_vmid between 100 and 999999999),
  default_node          text,
  storage_pool          text        not null,
  network_bridge        text        not null,
  app_stack             text,
  minimum_plan_code     text
    constraint cloud_pod_templates_minimum_plan_code_fkey references cloud_resource_plans (code)
      on update cascade on delete restrict,
  tags                  jsonb       not null default '[]'
    constraint cloud_pod_templates_tags_check check (jsonb_typeof(tags) = 'array'),
  is_active             boolean     not null default true,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now(),
  constraint cloud_pod_templates_app_stack_check check (type <> 'app' or app_stack is not null)
);
create index cloud_pod_templates_minimum_plan_code_idx on cloud_pod_templates (minimum_plan_code);
comment on table cloud_pod_templates is 'What a pod is cloned from (spec 4): a Proxmox template VM, plus for app templates the stack bootstrapped by cloud-init.';
comment on column cloud_pod_templates.minimum_plan_code is 'Smallest resource plan the template runs on; null when any plan will do.';
`.execute(db);

  // ---------------------------------------------------------------- desired state: pods, volumes, DNS records, hooks

  await sql`
create table cloud_pods (
  id              uuid        primary key default gen_random_uuid(),
  tenant_id       uuid        not null
    constraint cloud_pods_tenant_id_fkey references tenants (id) on delete restrict,
  name            text        not null
    constraint cloud_pods_name_check check (name ~ ${sql.raw(LABEL)}),
  template_id     uuid        not null
    constraint cloud_pods_template_id_fkey references cloud_pod_templates (id) on delete restrict,
  cpu_cores       integer     not null constraint cloud_pods_cpu_cores_check check (cpu_cores > 0),
  memory_mb       integer     not null constraint cloud_pods_memory_mb_check check (memory_mb > 0),
  disk_gb         integer     not null constraint cloud_pods_disk_gb_check check (disk_gb > 0),
  hostname        text
    constraint cloud_pods_hostname_check check (char_length(hostname) <= 253 and hostname ~ ${sql.raw(HOSTNAME)}),
  zone            text
    constraint cloud_pods_zone_check check (char_length(zone) <= 253 and zone ~ ${sql.raw(HOSTNAME)}),
  ssh_keys        jsonb       not null default '[]'
    constraint cloud_pods_ssh_keys_check check (jsonb_typeof(ssh_keys) = 'array'),
  app_options     jsonb       not null default '{}'
    constraint cloud_pods_app_options_check check (jsonb_typeof(app_options) = 'object'),
  power_state     text        not null default 'running'
    constraint cloud_pods_power_state_check check (power_state in ('running', 'stopped')),
  requested_node  text,
  status          text        not null default 'pending'
    constraint cloud_pods_status_check
      check (status in ('pending', 'provisioning', 'active', 'stopped', 'error', 'deleting')),
  vmid            integer
    constraint cloud_pods_vmid_check check (vmid between 100 and 999999999),
  node            text,
  ip_addresses    jsonb       not null default '[]'
    constraint cloud_pods_ip_addresses_check check (jsonb_typeof(ip_addresses) = 'array'),
  task_upid       text,
  ${objectModelColumns('cloud_pods')}
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  -- target of the (tenant_id, pod_id) foreign keys, so a volume or record can never name another tenant's pod
  constraint cloud_pods_tenant_id_id_key unique (tenant_id, id)
);
create unique index cloud_pods_tenant_id_name_key on cloud_pods (tenant_id, name) where deletion_requested_at is null;
create unique index cloud_pods_vmid_key on cloud_pods (vmid) where vmid is not null;
create index cloud_pods_tenant_id_created_at_idx on cloud_pods (tenant_id, created_at);
create index cloud_pods_status_idx on cloud_pods (status);
create index cloud_pods_template_id_idx on cloud_pods (template_id);
${objectModelIndexesAndComments('cloud_pods')}
comment on table cloud_pods is 'Pods: Proxmox VMs cloned from a template. Spec columns are desired state written by the API or the Kubernetes bridge; status, vmid, node, ip_addresses, task_upid and conditions are observed state written by the pod controller.';
comment on column cloud_pods.hostname is 'Fully qualified host name; the controller keeps an A/AAAA record for it in zone.';
comment on column cloud_pods.zone is 'DNS zone the hostname''s records go in.';
comment on column cloud_pods.power_state is 'Desired power state; status says what was observed.';
comment on column cloud_pods.requested_node is 'Node asked for in the spec; node is where the VM actually is.';
comment on column cloud_pods.vmid is 'Proxmox VMID, reserved before the clone and recorded so a retried clone finds its VM.';
comment on column cloud_pods.task_upid is 'UPID of the Proxmox task in flight (clone, resize, start...), so a restarted controller waits for it instead of starting another.';
`.execute(db);

  await sql`
create table cloud_pod_volumes (
  id                uuid        primary key default gen_random_uuid(),
  tenant_id         uuid        not null
    constraint cloud_pod_volumes_tenant_id_fkey references tenants (id) on delete restrict,
  pod_id            uuid        not null,
  name              text        not null
    constraint cloud_pod_volumes_name_check check (name ~ ${sql.raw(LABEL)}),
  size_gb           integer     not null constraint cloud_pod_volumes_size_gb_check check (size_gb > 0),
  storage_pool      text,
  status            text        not null default 'creating'
    constraint cloud_pod_volumes_status_check
      check (status in ('creating', 'attached', 'detached', 'error', 'deleting')),
  proxmox_volume_id text,
  ${objectModelColumns('cloud_pod_volumes')}
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  constraint cloud_pod_volumes_pod_id_fkey foreign key (tenant_id, pod_id)
    references cloud_pods (tenant_id, id) on delete restrict
);
create unique index cloud_pod_volumes_pod_id_name_key on cloud_pod_volumes (pod_id, name)
  where deletion_requested_at is null;
create index cloud_pod_volumes_pod_id_idx on cloud_pod_volumes (pod_id);
create index cloud_pod_volumes_tenant_id_created_at_idx on cloud_pod_volumes (tenant_id, created_at);
${objectModelIndexesAndComments('cloud_pod_volumes')}
comment on table cloud_pod_volumes is 'Extra disks of a pod (spec 7): created, attached, detached, resized and deleted by the volume controller.';
comment on column cloud_pod_volumes.storage_pool is 'Proxmox storage to create the volume on; null means the pod template''s pool.';
comment on column cloud_pod_volumes.proxmox_volume_id is 'Proxmox volume id (storage:volume) once created.';
`.execute(db);

  await sql`
create table cloud_pod_dns_records (
  id         uuid        primary key default gen_random_uuid(),
  tenant_id  uuid        not null
    constraint cloud_pod_dns_records_tenant_id_fkey references tenants (id) on delete restrict,
  pod_id     uuid,
  zone_name  text        not null
    constraint cloud_pod_dns_records_zone_name_check
      check (char_length(zone_name) <= 253 and zone_name ~ ${sql.raw(HOSTNAME)}),
  hostname   text        not null
    constraint cloud_pod_dns_records_hostname_check
      check (char_length(hostname) <= 253 and hostname ~ ${sql.raw(HOSTNAME)}),
  ip_address text        not null,
  type       text        not null
    constraint cloud_pod_dns_records_type_check check (type in ('A', 'AAAA')),
  status     text        not null default 'pending'
    constraint cloud_pod_dns_records_status_check check (status in ('pending', 'active', 'error')),
  ${objectModelColumns('cloud_pod_dns_records')}
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint cloud_pod_dns_records_pod_id_fkey foreign key (tenant_id, pod_id)
    references cloud_pods (tenant_id, id) on delete restrict,
  constraint cloud_pod_dns_records_hostname_in_zone_check
    check (hostname = zone_name or right(hostname, char_length(zone_name) + 1) = '.' || zone_name),
  constraint cloud_pod_dns_records_ip_address_check check (
    (type <> 'A' or ip_address ~ ${sql.raw(IPV4)})
    and (type <> 'AAAA' or (ip_address ~ ${sql.raw(IPV6)} and ip_address like '%:%:%')))
);
create unique index cloud_pod_dns_records_hostname_type_ip_address_key
  on cloud_pod_dns_records (hostname, type, ip_address) where deletion_requested_at is null;
create index cloud_pod_dns_records_pod_id_idx on cloud_pod_dns_records (pod_id) where pod_id is not null;
create index cloud_pod_dns_records_tenant_id_created_at_idx on cloud_pod_dns_records (tenant_id, created_at);
create index cloud_pod_dns_records_zone_name_hostname_idx on cloud_pod_dns_records (zone_name, hostname);
${objectModelIndexesAndComments('cloud_pod_dns_records')}
comment on table cloud_pod_dns_records is 'A/AAAA records for pod host names (spec 8), converged into PowerDNS by the dns-record controller.';
comment on column cloud_pod_dns_records.pod_id is 'Pod the record points at; null for a record kept without a pod.';
comment on column cloud_pod_dns_records.ip_address is 'Dotted-quad IPv4 for A, lowercase IPv6 text for AAAA.';
`.execute(db);

  await sql`
create table cloud_pod_hooks (
  id         uuid        primary key default gen_random_uuid(),
  tenant_id  uuid        not null
    constraint cloud_pod_hooks_tenant_id_fkey references tenants (id) on delete cascade,
  name       text        not null,
  event      text        not null
    constraint cloud_pod_hooks_event_check check (event in (
      'pod.pre_create', 'pod.post_create', 'pod.pre_destroy', 'pod.post_destroy', 'pod.post_backup')),
  type       text        not null
    constraint cloud_pod_hooks_type_check check (type in ('http', 'script')),
  target     text        not null,
  is_active  boolean     not null default true,
  config     jsonb       not null default '{}'
    constraint cloud_pod_hooks_config_check check (jsonb_typeof(config) = 'object'),
  ${objectModelColumns('cloud_pod_hooks')}
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint cloud_pod_hooks_target_check check (
    (type <> 'http' or target ~ '^https?://[^[:space:]]+$')
    and (type <> 'script' or target ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'))
);
create index cloud_pod_hooks_tenant_id_event_idx on cloud_pod_hooks (tenant_id, event)
  where is_active and deletion_requested_at is null;
create index cloud_pod_hooks_tenant_id_created_at_idx on cloud_pod_hooks (tenant_id, created_at);
${objectModelIndexesAndComments('cloud_pod_hooks')}
comment on table cloud_pod_hooks is 'Lifecycle hooks (spec 9): on a pod event, an active hook of the tenant gets a hook.execute job (signed HTTP POST or allow-listed script).';
comment on column cloud_pod_hooks.target is 'http(s) URL for type http; identifier of an allow-listed script for type script.';
comment on column cloud_pod_hooks.config is 'Headers, timeout, env and other delivery options.';
`.execute(db);

  // ---------------------------------------------------------------- audit and events (spec 5)

  await sql`
create table cloud_pod_audit (
  id         bigint      generated always as identity primary key,
  created_at timestamptz not null default now(),
  actor_type text        not null
    constraint cloud_pod_audit_actor_type_check
      check (actor_type in ('user', 'token', 'system', 'controller', 'kubernetes')),
  actor_id   text,
  tenant_id  uuid,
  pod_id     uuid,
  category   text        not null
    constraint cloud_pod_audit_category_check check (category in (
      'lifecycle', 'health', 'backup', 'quota', 'volume', 'dns', 'hook', 'settings', 'job', 'auth', 'tenant')),
  action     text        not null,
  details    jsonb       not null default '{}'
    constraint cloud_pod_audit_details_check check (jsonb_typeof(details) = 'object'),
  request_id text
);
create index cloud_pod_audit_created_at_idx on cloud_pod_audit (created_at);
create index cloud_pod_audit_tenant_id_created_at_idx on cloud_pod_audit (tenant_id, created_at desc);
create index cloud_pod_audit_pod_id_created_at_idx on cloud_pod_audit (pod_id, created_at desc) where pod_id is not null;
create index cloud_pod_audit_category_created_at_idx on cloud_pod_audit (category, created_at desc);
comment on table cloud_pod_audit is 'Append-only record of business actions and who did them (spec 5.2). tenant_id and pod_id have no foreign keys: the audit outlives what it names.';
comment on column cloud_pod_audit.action is 'What happened, e.g. pod.created, quota.exceeded, setting.updated.';
comment on column cloud_pod_audit.request_id is 'API request id, to join the audit with logs.';
`.execute(db);

  await sql`
create table system_events (
  id         bigint      generated always as identity primary key,
  service    text        not null,
  level      text        not null
    constraint system_events_level_check check (level in ('info', 'warn', 'error')),
  message    text        not null,
  context    jsonb       not null default '{}'
    constraint system_events_context_check check (jsonb_typeof(context) = 'object'),
  created_at timestamptz not null default now()
);
create index system_events_created_at_idx on system_events (created_at);
create index system_events_service_level_created_at_idx on system_events (service, level, created_at desc);
create index system_events_level_created_at_idx on system_events (level, created_at desc);
comment on table system_events is 'Operational events of the services (spec 5.2), shown on the System Health page; filtered by service, level and time.';
`.execute(db);

  // ---------------------------------------------------------------- job engine (spec 6, notes/jobs.md)

  await sql`
create table jobs (
  id               bigint      generated always as identity primary key,
  queue            text        not null,
  type             text        not null,
  payload          jsonb       not null default '{}'
    constraint jobs_payload_check check (jsonb_typeof(payload) = 'object'),
  status           text        not null default 'pending'
    constraint jobs_status_check check (status in ('pending', 'running', 'completed', 'failed', 'dead')),
  priority         integer     not null default 0,
  attempts         integer     not null default 0 constraint jobs_attempts_check check (attempts >= 0),
  max_attempts     integer     not null default 25 constraint jobs_max_attempts_check check (max_attempts >= 1),
  scheduled_at     timestamptz not null default now(),
  started_at       timestamptz,
  completed_at     timestamptz,
  last_error       text,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  key              text,
  locked_by        uuid,
  lease_expires_at timestamptz,
  constraint jobs_running_check check (status <> 'running' or (locked_by is not null and started_at is not null))
) with (
  fillfactor = 70,
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
  autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 5000,
  autovacuum_vacuum_cost_delay = 1, autovacuum_analyze_scale_factor = 0.02
);
-- at most one pending and one running job per (queue, key): the client-go workqueue guarantees
create unique index jobs_pending_key_idx on jobs (queue, key) where status = 'pending' and key is not null;
create unique index jobs_running_key_idx on jobs (queue, key) where status = 'running' and key is not null;
create index jobs_ready_idx on jobs (queue, priority desc, scheduled_at, id) where status = 'pending';
create index jobs_running_idx on jobs (locked_by) where status = 'running';
create index jobs_status_queue_created_at_idx on jobs (status, queue, created_at desc);
comment on table jobs is 'Job engine and controllers'' work queue (spec 6, notes/jobs.md). Workers claim pending jobs whose scheduled_at has come, highest priority first; failures are rescheduled with backoff until max_attempts, then dead. Small and hot: fillfactor 70 and aggressive autovacuum.';
comment on column jobs.priority is 'Higher runs sooner.';
comment on column jobs.attempts is 'Attempts started so far; with locked_by it fences completion against a rescued job.';
comment on column jobs.key is 'Work-queue key such as pod:<id>: at most one pending and one running job per (queue, key).';
comment on column jobs.locked_by is 'Id of the worker (job_workers.id) running the job.';
comment on column jobs.lease_expires_at is 'When a running job is presumed abandoned; deliberately not indexed so lease renewals stay HOT updates.';
`.execute(db);

  await sql`
create table job_attempts (
  id          bigint      generated always as identity primary key,
  job_id      bigint      not null,
  attempt     integer     not null constraint job_attempts_attempt_check check (attempt >= 1),
  worker_id   uuid,
  worker_name text,
  started_at  timestamptz not null,
  finished_at timestamptz,
  outcome     text
    constraint job_attempts_outcome_check check (outcome in ('completed', 'failed', 'dead', 'cancelled', 'rescued')),
  error       text,
  constraint job_attempts_job_id_attempt_key unique (job_id, attempt),
  constraint job_attempts_finished_check check ((outcome is null) = (finished_at is null))
);
comment on table job_attempts is 'One row per run of a job: who ran it, when, and how it ended. job_id has no foreign key, as finished jobs may move to a history table; the (job_id, attempt) unique index also serves lookups by job.';
comment on column job_attempts.outcome is 'Null while the attempt runs; set together with finished_at.';
`.execute(db);

  await sql`
create table job_workers (
  id                uuid        primary key default gen_random_uuid(),
  name              text        not null,
  queue             text        not null,
  last_heartbeat_at timestamptz not null default now(),
  status            text        not null default 'online'
    constraint job_workers_status_check check (status in ('online', 'offline', 'draining')),
  hostname          text,
  pid               integer     constraint job_workers_pid_check check (pid > 0),
  concurrency       integer     not null default 1 constraint job_workers_concurrency_check check (concurrency >= 1),
  started_at        timestamptz not null default now()
);
create index job_workers_status_last_heartbeat_at_idx on job_workers (status, last_heartbeat_at);
comment on table job_workers is 'Worker processes and their heartbeats (spec 6.2); a worker silent for a few intervals has its running jobs requeued.';
`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
drop table job_workers;
drop table job_attempts;
drop table jobs;
drop table system_events;
drop table cloud_pod_audit;
drop table cloud_pod_hooks;
drop table cloud_pod_dns_records;
drop table cloud_pod_volumes;
drop table cloud_pods;
drop table cloud_pod_templates;
drop table cloud_pod_quotas;
drop table cloud_tenant_resource_totals;
drop table cloud_tenant_resource_subscriptions;
drop table cloud_resource_plans;
drop table system_settings;
drop table api_tokens;
drop table tenants;
`.execute(db);
}
