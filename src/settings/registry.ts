import type { SettingValueType } from '../db/schema.ts';
import { isDnsName } from '../dns/label.ts';
import { parseCidr } from '../net/cidr.ts';

/**
 * Every setting CloudPods knows: its type, default, bounds and meaning. Code reads settings only through these
 * definitions (spec 1.4: "workers and services must read from settings, never hardcode these"), so a key that is
 * not here cannot be read or written.
 */
interface BaseDefinition {
  /** First segment of the full name: `cloudpods`, `platform`, `jobs`, ... */
  namespace: string;
  /** The rest of the full name, e.g. `auto_heal.enabled`. */
  key: string;
  description: string;
  /** Masked in the audit and the admin pages. */
  secret?: boolean;
}

export interface NumberDefinition extends BaseDefinition {
  type: 'number';
  default: number;
  min: number;
  max: number;
  integer: boolean;
  unit?: string;
}

export interface BooleanDefinition extends BaseDefinition {
  type: 'boolean';
  default: boolean;
}

export interface StringDefinition extends BaseDefinition {
  type: 'string';
  default: string;
  maxLength: number;
  /** A closed list of values, shown as a choice. */
  allowed?: readonly string[];
  /** A pattern the value must match, with what it means in words. */
  pattern?: { regex: RegExp; meaning: string };
  /** Further validation that a pattern cannot express; returns a message when the value is wrong. */
  check?: (value: string) => string | null;
}

export interface JsonDefinition extends BaseDefinition {
  type: 'json';
  default: unknown;
  /** Returns a message when the value does not have the expected shape. */
  check?: (value: unknown) => string | null;
}

export type SettingDefinition = NumberDefinition | BooleanDefinition | StringDefinition | JsonDefinition;

const whole = (namespace: string, key: string, defaultValue: number, min: number, max: number, unit: string,
  description: string): NumberDefinition =>
  ({ namespace, key, type: 'number', default: defaultValue, min, max, integer: true, unit, description });

const flag = (namespace: string, key: string, defaultValue: boolean, description: string): BooleanDefinition =>
  ({ namespace, key, type: 'boolean', default: defaultValue, description });

function isTimeZone(value: string): string | null {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return null;
  } catch {
    return 'expected an IANA time zone such as UTC or Europe/Berlin';
  }
}

export const settingDefinitions: readonly SettingDefinition[] = [
  // Spec 1.4, namespace cloudpods.
  flag('cloudpods', 'auto_heal.enabled', true, 'Restart or repair pods whose health checks keep failing.'),
  whole('cloudpods', 'auto_heal.failure_threshold', 3, 1, 100, 'failures',
    'Consecutive failed health checks before auto-heal acts.'),
  whole('cloudpods', 'auto_heal.max_per_pod_per_hour', 3, 1, 100, 'heals',
    'Heals of one pod within an hour; past it the pod is given up (error, HealGivenUp) until its spec changes or an admin heals it.'),
  whole('cloudpods', 'auto_heal.max_concurrent', 5, 1, 1000, 'heals',
    'Heals in flight in the whole fleet at once, so a cluster-wide fault does not restart every VM together.'),
  whole('cloudpods', 'backup.default_retention_count', 7, 1, 1000, 'backups',
    'Backups kept per pod when its policy does not say otherwise.'),
  whole('cloudpods', 'metrics.sample_interval_seconds', 60, 10, 3600, 'seconds', 'How often pod metrics are sampled.'),
  whole('cloudpods', 'health.check_interval_seconds', 60, 10, 3600, 'seconds', 'How often pod health is checked.'),
  whole('cloudpods', 'audit.retention_days', 365, 1, 3650, 'days', 'Audit entries and hook deliveries older than this are deleted.'),
  whole('cloudpods', 'events.retention_days', 30, 1, 3650, 'days', 'System events older than this are deleted.'),
  whole('cloudpods', 'events.info_per_minute', 120, 0, 100_000, 'events',
    'Info-level system events (start and stop, leadership, migrations, settings changes, heals) each process stores ' +
    'per minute; beyond it they are dropped and counted, and one warning says so. Warnings and errors are always stored.'),
  whole('cloudpods', 'webhooks.max_attempts', 10, 1, 100, 'attempts',
    'Deliveries of one webhook before it is given up (dead).'),
  whole('cloudpods', 'webhooks.initial_retry_delay_seconds', 10, 1, 3600, 'seconds',
    'Delay before the first webhook retry; later retries double it.'),
  whole('cloudpods', 'webhooks.timeout_seconds', 10, 1, 60, 'seconds',
    'How long one hook delivery may take (an http request, a script run) when the hook\'s config names no timeout.'),
  {
    namespace: 'cloudpods', key: 'webhooks.allowed_networks', type: 'json', default: [], check: networkList,
    description: 'Networks http hooks and tenants\' pod probes (health_check) may reach although they are loopback, ' +
      'private, link-local or otherwise internal, in CIDR form: ["10.20.0.0/16"]; list a private pod pool\'s network ' +
      'for its pods to be probed. Empty: public addresses only.',
  },
  // Default quotas of a tenant with neither an override nor subscriptions (spec 3.3).
  whole('cloudpods', 'quota.default_max_pods', 3, 0, 100_000, 'pods', 'Default quota: pods per tenant.'),
  whole('cloudpods', 'quota.default_max_cpu_cores', 4, 0, 1_000_000, 'cores', 'Default quota: CPU cores per tenant.'),
  whole('cloudpods', 'quota.default_max_memory_mb', 8192, 0, 1_000_000_000, 'MB',
    'Default quota: memory per tenant.'),
  whole('cloudpods', 'quota.default_max_disk_gb', 100, 0, 1_000_000_000, 'GB', 'Default quota: disk per tenant.'),
  whole('cloudpods', 'quota.default_max_bandwidth_gb', 1000, 0, 1_000_000_000, 'GB',
    'Default quota: monthly bandwidth per tenant.'),
  whole('cloudpods', 'quota.default_max_ipv4', 1, 0, 100_000, 'addresses',
    'Default quota: public IPv4 addresses per tenant.'),
  flag('cloudpods', 'suspension.power_off_pods', true,
    'Suspending a tenant powers its running pods off; reinstating it starts exactly those again.'),
  // Address pools (issue 14): the largest network an admin may create a pool for, as the shortest prefix length.
  whole('cloudpods', 'ip_pools.largest_ipv4_prefix', 16, 1, 32, 'prefix length',
    'Largest IPv4 pool: its network must be this prefix or longer (16: at most a /16, 65,536 addresses).'),
  whole('cloudpods', 'ip_pools.largest_ipv6_prefix', 64, 1, 128, 'prefix length',
    'Largest IPv6 pool: its network must be this prefix or longer (64: at most a /64).'),

  // Spec 1.4, namespace platform: branding shown on the admin pages.
  {
    namespace: 'platform', key: 'timezone', type: 'string', default: 'UTC', maxLength: 64, check: isTimeZone,
    description: 'Time zone in which the admin pages show times.',
  },
  {
    namespace: 'platform', key: 'brand_name', type: 'string', default: 'CloudPods', maxLength: 80,
    pattern: { regex: /^\S(.*\S)?$/, meaning: 'expected a non-empty name without surrounding spaces' },
    description: 'Product name shown in the admin pages.',
  },
  {
    namespace: 'platform', key: 'primary_color', type: 'string', default: '#2563eb', maxLength: 7,
    pattern: { regex: /^#[0-9a-fA-F]{6}$/, meaning: 'expected a colour such as #2563eb' },
    description: 'Accent colour of the admin pages.',
  },
  {
    namespace: 'platform', key: 'support_email', type: 'string', default: '', maxLength: 254,
    pattern: { regex: /^$|^[^\s@]+@[^\s@]+\.[^\s@]+$/, meaning: 'expected an e-mail address, or nothing' },
    description: 'Where the admin pages tell people to ask for help (empty: not shown).',
  },

  // Security.
  whole('security', 'admin_session_hours', 12, 1, 720, 'hours', 'How long an admin page login lasts.'),

  // Job engine (spec 6). The webhooks queue takes its attempts and first delay from cloudpods.webhooks.*.
  whole('jobs', 'max_attempts', 25, 1, 1000, 'attempts', 'Runs of a failing job before it is given up (dead).'),
  whole('jobs', 'initial_retry_delay_seconds', 2, 1, 3600, 'seconds',
    'Delay before the first retry of a failed job; later retries double it.'),
  whole('jobs', 'max_retry_delay_seconds', 3600, 1, 86_400, 'seconds', 'Longest delay between two retries.'),
  whole('jobs', 'retry_jitter_percent', 20, 0, 100, 'percent',
    'Retry delays are shortened at random by up to this much, so failures do not retry in lockstep.'),
  whole('jobs', 'default_timeout_seconds', 300, 1, 86_400, 'seconds',
    'How long a job may run when its type names no timeout; then its handler is aborted and the run failed.'),
  whole('jobs', 'poll_interval_ms', 1000, 50, 60_000, 'ms',
    'Safety-net poll for new jobs when a wake-up notification was missed.'),
  whole('jobs', 'heartbeat_interval_seconds', 5, 1, 300, 'seconds', 'How often workers record that they are alive.'),
  whole('jobs', 'worker_timeout_seconds', 15, 2, 3600, 'seconds',
    'A worker silent this long is presumed dead and its running jobs are run elsewhere.'),
  whole('jobs', 'shutdown_timeout_seconds', 25, 0, 3600, 'seconds',
    'On shutdown, how long in-flight jobs may finish before they are aborted and handed back.'),
  whole('jobs', 'default_concurrency', 10, 1, 1000, 'jobs',
    'Jobs a process runs at once per queue, unless the queue says.'),
  whole('jobs', 'retention_days', 7, 1, 3650, 'days',
    'Finished jobs, their attempts and offline workers older than this are deleted.'),

  // DNS (spec 8): see src/dns/zones.ts for how the zone lists are read.
  whole('cloudpods', 'dns.default_ttl', 300, 30, 86_400, 'seconds', 'TTL of new DNS records.'),
  whole('cloudpods', 'dns.resync_interval_seconds', 300, 10, 86_400, 'seconds',
    'How often every DNS record is compared with PowerDNS and repaired (read when the process starts).'),
  whole('cloudpods', 'dns.health_check_interval_seconds', 120, 10, 86_400, 'seconds',
    'How often active DNS records are asked for at the authoritative server (read when the process starts).'),
  {
    namespace: 'cloudpods', key: 'dns.platform_zones', type: 'json', default: [], check: zoneList,
    description: 'Zones the platform serves, e.g. ["pods.example.com"]. Empty: every zone that exists in PowerDNS.',
  },
  {
    namespace: 'cloudpods', key: 'dns.tenant_zones', type: 'json', default: {}, check: tenantZoneMap,
    description: 'Zones each tenant may use, by tenant slug or id, with "*" for every tenant: ' +
      '{"*": ["pods.example.com"], "acme": ["acme.example.com"]}. A zone allows the names inside it. Admins may use any served zone.',
  },
];

function zoneList(value: unknown): string | null {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && isDnsName(v)) ? null
    : 'expected a list of lower-case zone names without trailing dots';
}

function networkList(value: unknown): string | null {
  if (!Array.isArray(value)) return 'expected a list of networks such as ["10.20.0.0/16", "fd00:1::/64"]';
  const bad = value.find((item) => typeof item !== 'string' || !parseCidr(item));
  return bad === undefined ? null
    : `${JSON.stringify(bad)} is not a network in CIDR form with its host bits zero, such as "10.20.0.0/16"`;
}

function tenantZoneMap(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected an object of zone lists by tenant';
  for (const [tenant, zones] of Object.entries(value)) {
    if (zoneList(zones)) return `${tenant}: expected a list of lower-case zone names without trailing dots`;
  }
  return null;
}

export const fullName = (d: { namespace: string; key: string }): string => `${d.namespace}.${d.key}`;

const byName = new Map(settingDefinitions.map((d) => [fullName(d), d]));

export function findDefinition(namespace: string, key: string): SettingDefinition | undefined {
  return byName.get(`${namespace}.${key}`);
}

/** Looks a full name up (`cloudpods.auto_heal.enabled`): the namespace is the first segment. */
export function definitionByName(name: string): SettingDefinition | undefined {
  return byName.get(name);
}

export type { SettingValueType };
