import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable, Updateable } from 'kysely';
import type { HealthCheck } from '../health/probe-spec.ts';

/**
 * Table types of the CloudPods database, matching migrations/ exactly (checked by test/schema.test.ts).
 *
 * Reading: bigint columns arrive as JS numbers (src/db/database.ts), numeric as strings, timestamptz as Date,
 * jsonb parsed. Writing jsonb: pass JSON text (`JSON.stringify(value)`), because pg would send a JS array as a
 * PostgreSQL array literal; the Json column types below accept only strings on insert and update for that reason.
 */

// ------------------------------------------------------------------ column helpers

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** jsonb without a default: required on insert, written as JSON text. */
export type Json<T> = ColumnType<T, string, string>;
/** jsonb with a database default ('[]' or '{}'): optional on insert, written as JSON text. */
export type JsonWithDefault<T> = ColumnType<T, string | undefined, string>;

/** timestamptz not null, no default. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** timestamptz not null default now(). */
export type TimestampDefaultNow = ColumnType<Date, Date | string | undefined, Date | string>;
/** timestamptz null. */
export type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;

/** numeric: read as a string to keep every digit; numbers are accepted on write. */
export type Numeric = ColumnType<string, string | number, string | number>;

// ------------------------------------------------------------------ enumerations (each backs a CHECK constraint)

export const tenantStatuses = ['active', 'suspended'] as const;
export type TenantStatus = (typeof tenantStatuses)[number];

/** Permissions an API token can carry (api_tokens_permissions_check). */
export const permissions = [
  'settings.manage',
  'cloudpods.view',
  'cloudpods.manage',
  'cloudpods.volumes.manage',
  'health.view',
  'hooks.manage',
  'plans.manage',
] as const;
export type Permission = (typeof permissions)[number];

export const settingValueTypes = ['string', 'number', 'boolean', 'json'] as const;
export type SettingValueType = (typeof settingValueTypes)[number];

export const subscriptionStatuses = ['active', 'cancelled'] as const;
export type SubscriptionStatus = (typeof subscriptionStatuses)[number];

export const templateTypes = ['os', 'app'] as const;
export type TemplateType = (typeof templateTypes)[number];

/** Front door that owns an object's spec (ARCHITECTURE.md, "one writer per field"). */
export const managedByValues = ['api', 'kubernetes'] as const;
export type ManagedBy = (typeof managedByValues)[number];

export const podStatuses = ['pending', 'provisioning', 'active', 'stopped', 'error', 'deleting'] as const;
export type PodStatus = (typeof podStatuses)[number];

/** Desired power state of a pod. */
export const powerStates = ['running', 'stopped'] as const;
export type PowerState = (typeof powerStates)[number];

export const volumeStatuses = ['creating', 'attached', 'detached', 'error', 'deleting'] as const;
export type VolumeStatus = (typeof volumeStatuses)[number];

export const dnsRecordTypes = ['A', 'AAAA'] as const;
export type DnsRecordType = (typeof dnsRecordTypes)[number];

export const dnsRecordStatuses = ['pending', 'active', 'error'] as const;
export type DnsRecordStatus = (typeof dnsRecordStatuses)[number];

/** Migration 0007: `pod` rows follow the pod's hostname and addresses; `api` rows are extra names. */
export const dnsRecordOrigins = ['pod', 'api'] as const;
export type DnsRecordOrigin = (typeof dnsRecordOrigins)[number];

export const hookEvents = [
  'pod.pre_create',
  'pod.post_create',
  'pod.pre_destroy',
  'pod.post_destroy',
  'pod.post_backup',
] as const;
export type HookEvent = (typeof hookEvents)[number];

export const hookTypes = ['http', 'script'] as const;
export type HookType = (typeof hookTypes)[number];

/**
 * Migration 0020: how a delivery stands. `failed`: an attempt failed and it will be retried; `skipped`: its hook
 * was inactive or moved to another event when its turn came. Delivered, given up and skipped are final.
 */
export const hookDeliveryStatuses = ['pending', 'delivered', 'failed', 'given_up', 'skipped'] as const;
export type HookDeliveryStatus = (typeof hookDeliveryStatuses)[number];
/** The final ones: a delivery has `finished_at` exactly when its status is one of these. */
export const finishedHookDeliveryStatuses: readonly HookDeliveryStatus[] = ['delivered', 'given_up', 'skipped'];

export const auditActorTypes = ['user', 'token', 'system', 'controller', 'kubernetes'] as const;
export type AuditActorType = (typeof auditActorTypes)[number];

export const auditCategories = [
  'lifecycle',
  'health',
  'backup',
  'quota',
  'volume',
  'dns',
  'hook',
  'settings',
  'job',
  'auth',
  'tenant',
] as const;
export type AuditCategory = (typeof auditCategories)[number];

export const systemEventLevels = ['info', 'warn', 'error'] as const;
export type SystemEventLevel = (typeof systemEventLevels)[number];

export const jobStatuses = ['pending', 'running', 'completed', 'failed', 'dead'] as const;
export type JobStatus = (typeof jobStatuses)[number];

export const jobAttemptOutcomes = ['completed', 'failed', 'dead', 'cancelled', 'rescued'] as const;
export type JobAttemptOutcome = (typeof jobAttemptOutcomes)[number];

export const jobWorkerStatuses = ['online', 'offline', 'draining'] as const;
export type JobWorkerStatus = (typeof jobWorkerStatuses)[number];

// ------------------------------------------------------------------ JSON shapes

export const conditionStatuses = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof conditionStatuses)[number];

/** An element of `conditions`, shaped like Kubernetes metav1.Condition. */
export interface Condition {
  /** CamelCase type; `Ready` is always present once reconciled. */
  type: string;
  status: ConditionStatus;
  /** CamelCase machine-readable reason. */
  reason: string;
  message: string;
  /** RFC 3339 time the status last changed. */
  lastTransitionTime: string;
  /** The generation the condition was computed from. */
  observedGeneration?: number;
}

// ------------------------------------------------------------------ tables

export interface TenantsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  status: Generated<TenantStatus>;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
}

export interface ApiTokensTable {
  id: Generated<string>;
  name: string;
  /** Lowercase hex SHA-256 of the token. */
  token_hash: string;
  token_prefix: string;
  /** Null for platform admin tokens (then is_admin is true). */
  tenant_id: string | null;
  permissions: Generated<Permission[]>;
  is_admin: Generated<boolean>;
  created_by: string;
  created_at: TimestampDefaultNow;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export interface SystemSettingsTable {
  id: GeneratedAlways<number>;
  namespace: string;
  key: string;
  /** A JSON string, number or boolean matching value_type, or any JSON for 'json'. */
  value: Json<JsonValue>;
  value_type: SettingValueType;
  updated_by: string | null;
  updated_at: TimestampDefaultNow;
}

export interface CloudResourcePlansTable {
  id: Generated<string>;
  code: string;
  name: string;
  description: string | null;
  cpu_cores: number;
  memory_mb: number;
  disk_gb: number;
  bandwidth_gb: number | null;
  price_monthly: Numeric;
  /** Public IPv4 addresses per unit (migration 0003). */
  ipv4_count: Generated<number>;
  is_active: Generated<boolean>;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
  /** Pods per unit (migration 0014). */
  pods_count: Generated<number>;
}

export interface CloudTenantResourceSubscriptionsTable {
  id: Generated<string>;
  tenant_id: string;
  plan_id: string;
  quantity: number;
  status: Generated<SubscriptionStatus>;
  started_at: TimestampDefaultNow;
  /** Required once cancelled. */
  ends_at: NullableTimestamp;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
}

export interface CloudTenantResourceTotalsTable {
  id: Generated<string>;
  tenant_id: string;
  cpu_cores_total: Generated<number>;
  memory_mb_total: Generated<number>;
  disk_gb_total: Generated<number>;
  /** Null: an active subscription is unmetered (migration 0014). */
  bandwidth_gb_total: Generated<number | null>;
  ipv4_total: Generated<number>;
  updated_at: TimestampDefaultNow;
  /** Migration 0014. */
  pods_total: Generated<number>;
}

export interface CloudPodQuotasTable {
  id: Generated<string>;
  tenant_id: string;
  max_pods: number;
  max_cpu_cores: number;
  max_memory_mb: number;
  max_disk_gb: number;
  /** Null means unlimited. */
  max_bandwidth_gb: number | null;
  /** Null means unlimited (migration 0003). */
  max_ipv4: number | null;
  updated_by: string | null;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
}

export interface CloudPodTemplatesTable {
  id: Generated<string>;
  code: string;
  name: string;
  type: TemplateType;
  description: string | null;
  proxmox_template_vmid: number;
  default_node: string | null;
  storage_pool: string;
  network_bridge: string;
  /** Required for type 'app'. */
  app_stack: string | null;
  /** References cloud_resource_plans.code. */
  minimum_plan_code: string | null;
  tags: JsonWithDefault<string[]>;
  is_active: Generated<boolean>;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
}

/** Columns every desired-state table carries (ARCHITECTURE.md, "Shared object model"). */
export interface ObjectModelColumns {
  managed_by: Generated<ManagedBy>;
  generation: Generated<number>;
  observed_generation: Generated<number>;
  conditions: JsonWithDefault<Condition[]>;
  deletion_requested_at: NullableTimestamp;
  /** Required (with kube_namespace and kube_name) when managed_by is 'kubernetes'. */
  kube_uid: string | null;
  kube_namespace: string | null;
  kube_name: string | null;
}

export interface CloudPodsTable extends ObjectModelColumns {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  template_id: string;
  cpu_cores: number;
  memory_mb: number;
  disk_gb: number;
  hostname: string | null;
  /** DNS zone of the hostname's records. */
  zone: string | null;
  ssh_keys: JsonWithDefault<string[]>;
  app_options: JsonWithDefault<JsonObject>;
  power_state: Generated<PowerState>;
  requested_node: string | null;
  status: Generated<PodStatus>;
  vmid: number | null;
  node: string | null;
  ip_addresses: JsonWithDefault<string[]>;
  /** UPID of the Proxmox task in flight. */
  task_upid: string | null;
  /** Migration 0006: random seed of per-pod secrets; never shown. */
  secret_seed: string | null;
  reboot_requested_at: NullableTimestamp;
  rebooted_at: NullableTimestamp;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
  /** Migration 0014: when the tenant's suspension powered the pod off (reinstating starts it again). */
  suspension_stopped_at: NullableTimestamp;
  /** Migration 0021: since when the pod waits for a clone slot of its node; null when it does not. */
  clone_queued_at: NullableTimestamp;
  /** Migration 0023: the tenant's optional probe of the pod (src/health/probe-spec.ts); null: none. */
  health_check: ColumnType<HealthCheck | null, string | null | undefined, string | null>;
  /** Migration 0022, written by the health controller only: the `Healthy` condition's status, null until checked. */
  health_status: HealthStatus | null;
  health_reason: string | null;
  health_message: string | null;
  /** Consecutive failed checks; 0 after a healthy one. */
  health_failures: Generated<number>;
  health_checked_at: NullableTimestamp;
  /** When health_status last changed (the condition's lastTransitionTime). */
  health_changed_at: NullableTimestamp;
  /** Auto-heal reached its bound: nothing more is repaired until the spec changes or an admin asks for a heal. */
  heal_given_up_at: NullableTimestamp;
  /** A heal's task is in flight (its UPID in task_upid): counted against `auto_heal.max_concurrent`. */
  heal_started_at: NullableTimestamp;
}

export const healthStatuses = ['True', 'False', 'Unknown'] as const;
export type HealthStatus = (typeof healthStatuses)[number];

export interface CloudPodVolumesTable extends ObjectModelColumns {
  id: Generated<string>;
  tenant_id: string;
  /** Must be a pod of the same tenant. */
  pod_id: string;
  name: string;
  size_gb: number;
  storage_pool: string | null;
  status: Generated<VolumeStatus>;
  proxmox_volume_id: string | null;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
  /** Migration 0008: desired attachment (false: kept as the VM's unused disk). */
  attached: Generated<boolean>;
  /** The VM's bus slot (`scsiN`) of the disk, recorded by the controller before it acts. */
  slot: string | null;
  /** UPID of the Proxmox task in flight. */
  task_upid: string | null;
}

export interface CloudPodDnsRecordsTable extends ObjectModelColumns {
  id: Generated<string>;
  tenant_id: string;
  /** A pod of the same tenant, or null. */
  pod_id: string | null;
  zone_name: string;
  /** Lowercase, without trailing dot, equal to zone_name or inside it. */
  hostname: string;
  ip_address: string;
  type: DnsRecordType;
  status: Generated<DnsRecordStatus>;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
  /** Migration 0007: TTL in seconds (30 to 86400). */
  ttl: Generated<number>;
  /** Also keep a PTR record for ip_address in its reverse zone. */
  ptr: Generated<boolean>;
  origin: Generated<DnsRecordOrigin>;
}

export interface CloudPodHooksTable extends ObjectModelColumns {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  event: HookEvent;
  type: HookType;
  /** http(s) URL for 'http', allow-listed script identifier for 'script'. */
  target: string;
  is_active: Generated<boolean>;
  config: JsonWithDefault<JsonObject>;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
  /** Standard Webhooks secret (`whsec_...`), made by the database (0011). */
  signing_secret: Generated<string>;
}

/** Migration 0020: the delivery ledger, one row per delivery of one lifecycle event to one hook (src/hooks/ledger.ts). */
export interface CloudPodHookDeliveriesTable {
  id: GeneratedAlways<number>;
  /** Rows go with their hook. */
  hook_id: string;
  tenant_id: string;
  /** No foreign key: a pod's deliveries outlive it (pod.post_destroy comes after its row is gone). */
  pod_id: string;
  event: HookEvent;
  /** What the receiver sees as the envelope's id and `webhook-id` (`msg_<event job>_<hook>`); unique. */
  delivery_id: string;
  status: Generated<HookDeliveryStatus>;
  attempts: Generated<number>;
  /** The latest failed attempt's reason, secrets scrubbed, at most 500 characters. */
  last_error: string | null;
  /** The job to retry: the delivery's, or the event's when it was never fanned out. No foreign key: jobs are pruned. */
  job_id: number;
  /** The fan-out found the hook blocking: the pod's gate waits for this delivery. */
  blocking: Generated<boolean>;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
  /** Set exactly when the status is final. */
  finished_at: NullableTimestamp;
}

export interface CloudPodAuditTable {
  id: GeneratedAlways<number>;
  created_at: TimestampDefaultNow;
  actor_type: AuditActorType;
  actor_id: string | null;
  /** No foreign key: the audit outlives what it names. */
  tenant_id: string | null;
  pod_id: string | null;
  category: AuditCategory;
  action: string;
  details: JsonWithDefault<JsonObject>;
  request_id: string | null;
}

export interface SystemEventsTable {
  id: GeneratedAlways<number>;
  service: string;
  level: SystemEventLevel;
  message: string;
  context: JsonWithDefault<JsonObject>;
  created_at: TimestampDefaultNow;
}

export interface JobsTable {
  id: GeneratedAlways<number>;
  queue: string;
  type: string;
  payload: JsonWithDefault<JsonObject>;
  status: Generated<JobStatus>;
  /** Higher runs sooner. */
  priority: Generated<number>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  scheduled_at: TimestampDefaultNow;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  last_error: string | null;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
  /** Work-queue key such as `pod:<id>`: at most one pending and one running job per (queue, key). */
  key: string | null;
  /** Worker id; required while running. */
  locked_by: string | null;
  lease_expires_at: NullableTimestamp;
}

export interface JobAttemptsTable {
  id: GeneratedAlways<number>;
  job_id: number;
  attempt: number;
  worker_id: string | null;
  worker_name: string | null;
  started_at: Timestamp;
  /** Set together with outcome. */
  finished_at: NullableTimestamp;
  outcome: JobAttemptOutcome | null;
  error: string | null;
}

export interface JobWorkersTable {
  id: Generated<string>;
  name: string;
  queue: string;
  last_heartbeat_at: TimestampDefaultNow;
  status: Generated<JobWorkerStatus>;
  hostname: string | null;
  pid: number | null;
  concurrency: Generated<number>;
  started_at: TimestampDefaultNow;
}

/** Migration 0003: address pools and the addresses pods hold. */
export interface CloudIpPoolsTable {
  id: Generated<string>;
  name: string;
  family: 4 | 6;
  cidr: string;
  gateway: string;
  range_start: string;
  range_end: string;
  bridge: string;
  vlan: number | null;
  /** Proxmox nodes the pool serves; empty means all. */
  nodes: ColumnType<string[], string[] | undefined, string[]>;
  nameservers: ColumnType<string[], string[] | undefined, string[]>;
  is_active: Generated<boolean>;
  created_at: TimestampDefaultNow;
  updated_at: TimestampDefaultNow;
}

export interface CloudIpAllocationsTable {
  id: Generated<string>;
  pool_id: string;
  address: string;
  tenant_id: string;
  pod_id: string;
  family: 4 | 6;
  allocated_at: TimestampDefaultNow;
}

/** Migration 0004: first responses to POSTs with an Idempotency-Key. */
export interface IdempotencyKeysTable {
  id: Generated<string>;
  /** Who may replay: `token:<id>`, the token that sent it (rows before migration 0016 may name a tenant). */
  scope: string;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  state: Generated<'in_progress' | 'completed'>;
  response_status: number | null;
  response_body: ColumnType<JsonValue | null, string | null, string | null>;
  created_at: TimestampDefaultNow;
  expires_at: TimestampDefaultNow;
  /** Migration 0016: presence lock of the process answering it (src/db/presence.ts); null on older rows. */
  owner_lock: number | null;
}

export interface Database {
  idempotency_keys: IdempotencyKeysTable;
  cloud_ip_pools: CloudIpPoolsTable;
  cloud_ip_allocations: CloudIpAllocationsTable;
  tenants: TenantsTable;
  api_tokens: ApiTokensTable;
  system_settings: SystemSettingsTable;
  cloud_resource_plans: CloudResourcePlansTable;
  cloud_tenant_resource_subscriptions: CloudTenantResourceSubscriptionsTable;
  cloud_tenant_resource_totals: CloudTenantResourceTotalsTable;
  cloud_pod_quotas: CloudPodQuotasTable;
  cloud_pod_templates: CloudPodTemplatesTable;
  cloud_pods: CloudPodsTable;
  cloud_pod_volumes: CloudPodVolumesTable;
  cloud_pod_dns_records: CloudPodDnsRecordsTable;
  cloud_pod_hooks: CloudPodHooksTable;
  cloud_pod_hook_deliveries: CloudPodHookDeliveriesTable;
  cloud_pod_audit: CloudPodAuditTable;
  system_events: SystemEventsTable;
  jobs: JobsTable;
  job_attempts: JobAttemptsTable;
  job_workers: JobWorkersTable;
}

export type TableName = keyof Database;

// ------------------------------------------------------------------ row types

export type TenantRow = Selectable<TenantsTable>;
export type NewTenant = Insertable<TenantsTable>;
export type TenantUpdate = Updateable<TenantsTable>;

export type ApiTokenRow = Selectable<ApiTokensTable>;
export type NewApiToken = Insertable<ApiTokensTable>;
export type ApiTokenUpdate = Updateable<ApiTokensTable>;

export type SystemSettingRow = Selectable<SystemSettingsTable>;
export type NewSystemSetting = Insertable<SystemSettingsTable>;
export type SystemSettingUpdate = Updateable<SystemSettingsTable>;

export type ResourcePlanRow = Selectable<CloudResourcePlansTable>;
export type NewResourcePlan = Insertable<CloudResourcePlansTable>;
export type ResourcePlanUpdate = Updateable<CloudResourcePlansTable>;

export type SubscriptionRow = Selectable<CloudTenantResourceSubscriptionsTable>;
export type NewSubscription = Insertable<CloudTenantResourceSubscriptionsTable>;
export type SubscriptionUpdate = Updateable<CloudTenantResourceSubscriptionsTable>;

export type ResourceTotalsRow = Selectable<CloudTenantResourceTotalsTable>;
export type NewResourceTotals = Insertable<CloudTenantResourceTotalsTable>;
export type ResourceTotalsUpdate = Updateable<CloudTenantResourceTotalsTable>;

export type PodQuotaRow = Selectable<CloudPodQuotasTable>;
export type NewPodQuota = Insertable<CloudPodQuotasTable>;
export type PodQuotaUpdate = Updateable<CloudPodQuotasTable>;

export type TemplateRow = Selectable<CloudPodTemplatesTable>;
export type NewTemplate = Insertable<CloudPodTemplatesTable>;
export type TemplateUpdate = Updateable<CloudPodTemplatesTable>;

export type PodRow = Selectable<CloudPodsTable>;
export type NewPod = Insertable<CloudPodsTable>;
export type PodUpdate = Updateable<CloudPodsTable>;

export type VolumeRow = Selectable<CloudPodVolumesTable>;
export type NewVolume = Insertable<CloudPodVolumesTable>;
export type VolumeUpdate = Updateable<CloudPodVolumesTable>;

export type DnsRecordRow = Selectable<CloudPodDnsRecordsTable>;
export type NewDnsRecord = Insertable<CloudPodDnsRecordsTable>;
export type DnsRecordUpdate = Updateable<CloudPodDnsRecordsTable>;

export type HookRow = Selectable<CloudPodHooksTable>;
export type NewHook = Insertable<CloudPodHooksTable>;
export type HookUpdate = Updateable<CloudPodHooksTable>;

export type HookDeliveryRow = Selectable<CloudPodHookDeliveriesTable>;
export type NewHookDelivery = Insertable<CloudPodHookDeliveriesTable>;

export type AuditRow = Selectable<CloudPodAuditTable>;
export type NewAudit = Insertable<CloudPodAuditTable>;

export type SystemEventRow = Selectable<SystemEventsTable>;
export type NewSystemEvent = Insertable<SystemEventsTable>;

export type JobRow = Selectable<JobsTable>;
export type NewJob = Insertable<JobsTable>;
export type JobUpdate = Updateable<JobsTable>;

export type JobAttemptRow = Selectable<JobAttemptsTable>;
export type NewJobAttempt = Insertable<JobAttemptsTable>;
export type JobAttemptUpdate = Updateable<JobAttemptsTable>;

export type JobWorkerRow = Selectable<JobWorkersTable>;
export type NewJobWorker = Insertable<JobWorkersTable>;
export type JobWorkerUpdate = Updateable<JobWorkersTable>;
