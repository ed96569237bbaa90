import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FileMigrationProvider, Migrator, NO_MIGRATIONS, sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Db } from '../src/db/database.ts';
import { migrateToLatest, migrationStatus, migrationsFolder, shippedMigrationNames } from '../src/db/migrate.ts';
import {
  auditActorTypes,
  auditCategories,
  dnsRecordOrigins,
  dnsRecordStatuses,
  dnsRecordTypes,
  finishedHookDeliveryStatuses,
  healthStatuses,
  hookDeliveryStatuses,
  hookEvents,
  hookTypes,
  jobAttemptOutcomes,
  jobStatuses,
  jobWorkerStatuses,
  managedByValues,
  permissions,
  podStatuses,
  powerStates,
  settingValueTypes,
  subscriptionStatuses,
  systemEventLevels,
  templateTypes,
  tenantStatuses,
  volumeStatuses,
  type Database,
  type TableName,
} from '../src/db/schema.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';

/*
 * The schema as PostgreSQL sees it: tables and columns after migrating an empty database, the migration's down/up
 * round trip, and every constraint, asserted against the SQLSTATE and constraint name PostgreSQL reports.
 */

// ------------------------------------------------------------------ expected tables and columns

// The schema after every migration, in column order. A migration that adds or changes a column updates this list
// and src/db/schema.ts together; the type check below and the first test say what is out of step.

/** "<column> <type>", then " null" when nullable, " identity" for a generated-always identity. */
type ColumnEntry<T> = `${keyof T & string} ${string}`;
type ExpectedColumns = { readonly [T in TableName]: readonly ColumnEntry<Database[T]>[] };

const objectModel = [
  'managed_by text',
  'generation bigint',
  'observed_generation bigint',
  'conditions jsonb',
  'deletion_requested_at timestamptz null',
  'kube_uid text null',
  'kube_namespace text null',
  'kube_name text null',
] as const;
const timestamps = ['created_at timestamptz', 'updated_at timestamptz'] as const;

const expectedColumns = {
  tenants: ['id uuid', 'slug text', 'name text', 'status text', ...timestamps],
  api_tokens: [
    'id uuid', 'name text', 'token_hash text', 'token_prefix text', 'tenant_id uuid null', 'permissions text[]',
    'is_admin boolean', 'created_by text', 'created_at timestamptz', 'expires_at timestamptz null',
    'revoked_at timestamptz null', 'last_used_at timestamptz null',
  ],
  system_settings: [
    'id bigint identity', 'namespace text', 'key text', 'value jsonb', 'value_type text', 'updated_by text null',
    'updated_at timestamptz',
  ],
  cloud_resource_plans: [
    'id uuid', 'code text', 'name text', 'description text null', 'cpu_cores integer', 'memory_mb integer',
    'disk_gb integer', 'bandwidth_gb integer null', 'price_monthly numeric(12,2)', 'is_active boolean', ...timestamps,
    'ipv4_count integer', // 0003
    'pods_count integer', // 0014
  ],
  cloud_tenant_resource_subscriptions: [
    'id uuid', 'tenant_id uuid', 'plan_id uuid', 'quantity integer', 'status text', 'started_at timestamptz',
    'ends_at timestamptz null', ...timestamps,
  ],
  cloud_tenant_resource_totals: [
    'id uuid', 'tenant_id uuid', 'cpu_cores_total integer', 'memory_mb_total integer', 'disk_gb_total integer',
    'bandwidth_gb_total integer null', 'updated_at timestamptz',
    'ipv4_total integer', // 0003
    'pods_total integer', // 0014
  ],
  cloud_pod_quotas: [
    'id uuid', 'tenant_id uuid', 'max_pods integer', 'max_cpu_cores integer', 'max_memory_mb integer',
    'max_disk_gb integer', 'max_bandwidth_gb integer null', 'updated_by text null', ...timestamps,
    'max_ipv4 integer null', // 0003
  ],
  cloud_pod_templates: [
    'id uuid', 'code text', 'name text', 'type text', 'description text null', 'proxmox_template_vmid integer',
    'default_node text null', 'storage_pool text', 'network_bridge text', 'app_stack text null',
    'minimum_plan_code text null', 'tags jsonb', 'is_active boolean', ...timestamps,
  ],
  cloud_pods: [
    'id uuid', 'tenant_id uuid', 'name text', 'template_id uuid', 'cpu_cores integer', 'memory_mb integer',
    'disk_gb integer', 'hostname text null', 'zone text null', 'ssh_keys jsonb', 'app_options jsonb',
    'power_state text', 'requested_node text null', 'status text', 'vmid integer null', 'node text null',
    'ip_addresses jsonb', 'task_upid text null', ...objectModel, ...timestamps,
    // 0006_pods
    'secret_seed text null', 'reboot_requested_at timestamptz null', 'rebooted_at timestamptz null',
    'suspension_stopped_at timestamptz null', // 0014
    'clone_queued_at timestamptz null', // 0021
    'health_status text null', 'health_reason text null', 'health_message text null', 'health_failures integer',
    'health_checked_at timestamptz null', 'health_changed_at timestamptz null', 'heal_given_up_at timestamptz null',
    'heal_started_at timestamptz null', // 0022
    'health_check jsonb null', // 0023
  ],
  cloud_pod_volumes: [
    'id uuid', 'tenant_id uuid', 'pod_id uuid', 'name text', 'size_gb integer', 'storage_pool text null',
    'status text', 'proxmox_volume_id text null', ...objectModel, ...timestamps,
    'attached boolean', 'slot text null', 'task_upid text null', // 0008_volumes
  ],
  cloud_pod_dns_records: [
    'id uuid', 'tenant_id uuid', 'pod_id uuid null', 'zone_name text', 'hostname text', 'ip_address text',
    'type text', 'status text', ...objectModel, ...timestamps,
    'ttl integer', 'ptr boolean', 'origin text', // 0007_dns
  ],
  cloud_pod_hooks: [
    'id uuid', 'tenant_id uuid', 'name text', 'event text', 'type text', 'target text', 'is_active boolean',
    'config jsonb', ...objectModel, ...timestamps,
    'signing_secret text', // 0011_hook_signing_secrets
  ],
  cloud_pod_audit: [
    'id bigint identity', 'created_at timestamptz', 'actor_type text', 'actor_id text null', 'tenant_id uuid null',
    'pod_id uuid null', 'category text', 'action text', 'details jsonb', 'request_id text null',
  ],
  system_events: [
    'id bigint identity', 'service text', 'level text', 'message text', 'context jsonb', 'created_at timestamptz',
  ],
  jobs: [
    'id bigint identity', 'queue text', 'type text', 'payload jsonb', 'status text', 'priority integer',
    'attempts integer', 'max_attempts integer', 'scheduled_at timestamptz', 'started_at timestamptz null',
    'completed_at timestamptz null', 'last_error text null', ...timestamps, 'key text null', 'locked_by uuid null',
    'lease_expires_at timestamptz null',
  ],
  job_attempts: [
    'id bigint identity', 'job_id bigint', 'attempt integer', 'worker_id uuid null', 'worker_name text null',
    'started_at timestamptz', 'finished_at timestamptz null', 'outcome text null', 'error text null',
  ],
  job_workers: [
    'id uuid', 'name text', 'queue text', 'last_heartbeat_at timestamptz', 'status text', 'hostname text null',
    'pid integer null', 'concurrency integer', 'started_at timestamptz',
  ],
  // 0003_tenancy
  cloud_ip_pools: [
    'id uuid', 'name text', 'family smallint', 'cidr cidr', 'gateway inet', 'range_start inet', 'range_end inet',
    'bridge text', 'vlan integer null', 'nodes text[]', 'nameservers inet[]', 'is_active boolean', ...timestamps,
  ],
  cloud_ip_allocations: [
    'id uuid', 'pool_id uuid', 'address inet', 'tenant_id uuid', 'pod_id uuid', 'family smallint',
    'allocated_at timestamptz',
  ],
  // 0004_idempotency_keys
  idempotency_keys: [
    'id uuid', 'scope text', 'key text', 'method text', 'path text', 'request_hash text', 'state text',
    'response_status integer null', 'response_body jsonb null', 'created_at timestamptz', 'expires_at timestamptz',
    'owner_lock integer null', // 0016_idempotency_owner
  ],
  // 0020_hook_delivery_ledger
  cloud_pod_hook_deliveries: [
    'id bigint identity', 'hook_id uuid', 'tenant_id uuid', 'pod_id uuid', 'event text', 'delivery_id text',
    'status text', 'attempts integer', 'last_error text null', 'job_id bigint', 'blocking boolean', ...timestamps,
    'finished_at timestamptz null',
  ],
} as const satisfies ExpectedColumns;

// The lists above may only name columns of src/db/schema.ts (checked by `satisfies`); this line stops the type
// check, naming the column, when schema.ts has a column they leave out. So schema.ts = these lists = PostgreSQL.
type Listed<L> = L extends readonly (infer E)[] ? (E extends `${infer Name} ${string}` ? Name : never) : never;
type Unlisted = {
  [T in TableName]: Exclude<keyof Database[T] & string, Listed<(typeof expectedColumns)[T]>>;
}[TableName];
const schemaTsColumnsAllListed: [Unlisted] extends [never] ? true : Unlisted = true;

const sqlTypeNames: Record<string, string> = { int2: 'smallint', int4: 'integer', int8: 'bigint', bool: 'boolean' };
const sqlTypeName = (udt: string): string =>
  udt.startsWith('_') ? `${sqlTypeName(udt.slice(1))}[]` : sqlTypeNames[udt] ?? udt;

/** The public tables' columns in the format of expectedColumns, read from information_schema. */
async function describeColumns(db: Db): Promise<Record<string, string[]>> {
  const { rows } = await sql<{
    table_name: string;
    column_name: string;
    udt_name: string;
    is_nullable: 'YES' | 'NO';
    is_identity: 'YES' | 'NO';
    identity_generation: string | null;
    numeric_precision: number | null;
    numeric_scale: number | null;
  }>`
    select table_name, column_name, udt_name, is_nullable, is_identity, identity_generation,
           numeric_precision, numeric_scale
      from information_schema.columns
     where table_schema = 'public' and table_name not in ('kysely_migration', 'kysely_migration_lock')
     order by table_name, ordinal_position`.execute(db);
  const tables: Record<string, string[]> = {};
  for (const c of rows) {
    let type = sqlTypeName(c.udt_name);
    if (type === 'numeric') type = `numeric(${c.numeric_precision},${c.numeric_scale})`;
    const nullable = c.is_nullable === 'YES' ? ' null' : '';
    const identity = c.is_identity === 'YES' ? (c.identity_generation === 'ALWAYS' ? ' identity' : ' identity by default') : '';
    (tables[c.table_name] ??= []).push(`${c.column_name} ${type}${nullable}${identity}`);
  }
  return tables;
}

function migratorFor(db: Db): Migrator {
  return new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsFolder }) });
}

// ------------------------------------------------------------------ (a), (c): migrations on empty databases

const migrations = suite('schema: migrations');
const emptyDatabases: TestDatabase[] = [];
migrations.after(async () => {
  for (const database of emptyDatabases) await database.drop();
});

async function emptyDatabase(): Promise<Db> {
  const database = await testDatabase({ empty: true });
  emptyDatabases.push(database);
  return database.db;
}

migrations('schema.ts lists the same columns as this test', () => {
  assert.ok(schemaTsColumnsAllListed);
});

migrations('migrating an empty database creates every table with exactly its columns; a second run is a no-op', async () => {
  const db = await emptyDatabase();
  const shipped = await shippedMigrationNames();

  const first = await migrateToLatest(db);
  assert.equal(first.applied, shipped);
  assert.ok(first.status.every((m) => m.executedAt instanceof Date), 'every migration recorded as executed');
  assert.equal(await describeColumns(db), expectedColumns);

  const second = await migrateToLatest(db);
  assert.equal(second.applied, []);
  assert.equal(second.status, first.status);
  assert.equal(await describeColumns(db), expectedColumns);
});

migrations('down then up again on an empty database', async () => {
  const db = await emptyDatabase();
  const shipped = await shippedMigrationNames();
  await migrateToLatest(db);

  const downResult = await migratorFor(db).migrateTo(NO_MIGRATIONS);
  assert.is(downResult.error, undefined);
  assert.equal(downResult.results?.map((r) => [r.migrationName, r.direction, r.status]),
    [...shipped].reverse().map((name) => [name, 'Down', 'Success']));
  assert.equal(await describeColumns(db), {}, 'no table left but kysely\'s own');
  assert.ok((await migrationStatus(db)).every((m) => m.executedAt === null));

  const again = await migrateToLatest(db);
  assert.equal(again.applied, shipped);
  assert.equal(await describeColumns(db), expectedColumns);
});

migrations('0020 carries the deliveries of existing hook.execute jobs over into the ledger', async () => {
  const db = await emptyDatabase();
  const before = await migratorFor(db).migrateTo('0016_idempotency_owner');
  assert.is(before.error, undefined);
  const [tenant] = await sql<{ id: string }>`insert into tenants (slug, name) values ('t-ledger', 'T')
    returning id`.execute(db).then((r) => r.rows);
  const [hook] = await sql<{ id: string }>`insert into cloud_pod_hooks (tenant_id, name, event, type, target)
    values (${tenant!.id}, 'gate', 'pod.pre_destroy', 'http', 'https://hooks.example.com/x') returning id`
    .execute(db).then((r) => r.rows);
  const pod = '00000000-0000-4000-8000-0000000000d1';
  const delivery = (n: number, status: string, extra: string) => sql.raw(`insert into jobs (queue, type, status,
    attempts, last_error, completed_at, payload) values ('webhooks', 'hook.execute', '${status}', ${extra},
    '{"hook_id": "${hook!.id}", "delivery_id": "msg_${n}_${hook!.id}", "blocking": true,
      "event": {"event": "pod.pre_destroy", "pod_id": "${pod}", "tenant_id": "${tenant!.id}"}}')`);
  await delivery(1, 'completed', `1, null, now()`).execute(db);
  await delivery(2, 'dead', `10, 'HookDeliveryError: HTTP 500: no', now()`).execute(db);
  await delivery(3, 'pending', `2, 'HookDeliveryError: HTTP 503', null`).execute(db);
  await migrateToLatest(db);
  const rows = await db.selectFrom('cloud_pod_hook_deliveries')
    .select(['delivery_id', 'status', 'attempts', 'last_error', 'blocking', 'pod_id', 'event'])
    .select((eb) => eb('finished_at', 'is not', null).as('finished')).orderBy('id').execute();
  assert.equal(rows.map((r) => [r.delivery_id.split('_')[1], r.status, r.attempts, r.last_error, r.finished]), [
    ['1', 'delivered', 1, null, true], ['2', 'given_up', 10, 'HTTP 500: no', true], ['3', 'failed', 2, 'HTTP 503', false]]);
  assert.ok(rows.every((r) => r.blocking && r.pod_id === pod && r.event === 'pod.pre_destroy'));
});

migrations.run();

// ------------------------------------------------------------------ (b): constraints

const constraints = suite('schema: constraints');
let database: TestDatabase;
let db: Db;

const TENANT_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const TENANT_B = 'bbbbbbbb-0000-4000-8000-000000000002';
/** A tenant without pods, quota or totals. */
const TENANT_C = 'cccccccc-0000-4000-8000-000000000003';
const PLAN = 'dddddddd-0000-4000-8000-000000000004';
const TEMPLATE = 'eeeeeeee-0000-4000-8000-000000000005';
const POD_A = 'aaaaaaaa-0000-4000-8000-0000000000a1';
const POD_B = 'bbbbbbbb-0000-4000-8000-0000000000b1';
const HOOK = 'aaaaaaaa-0000-4000-8000-0000000000c1';

constraints.before(async () => {
  database = await testDatabase();
  db = database.db;
  // Typed inserts: they also check that schema.ts accepts ordinary rows.
  await db.insertInto('tenants').values([
    { id: TENANT_A, slug: 'tenant-a', name: 'Tenant A' },
    { id: TENANT_B, slug: 'tenant-b', name: 'Tenant B' },
    { id: TENANT_C, slug: 'tenant-c', name: 'Tenant C', status: 'suspended' },
  ]).execute();
  await db.insertInto('cloud_resource_plans').values({
    id: PLAN, code: 'cloud-basic', name: 'Cloud Basic', cpu_cores: 2, memory_mb: 4096, disk_gb: 50, price_monthly: '9.90',
  }).execute();
  await db.insertInto('cloud_pod_templates').values({
    id: TEMPLATE, code: 'ubuntu-24-04', name: 'Ubuntu 24.04', type: 'os', proxmox_template_vmid: 9000,
    storage_pool: 'local-lvm', network_bridge: 'vmbr0', tags: JSON.stringify(['ubuntu', 'lts']),
  }).execute();
  await db.insertInto('cloud_pods').values([
    { id: POD_A, tenant_id: TENANT_A, name: 'web', template_id: TEMPLATE, cpu_cores: 1, memory_mb: 1024, disk_gb: 10 },
    { id: POD_B, tenant_id: TENANT_B, name: 'web', template_id: TEMPLATE, cpu_cores: 1, memory_mb: 1024, disk_gb: 10 },
  ]).execute();
  await db.insertInto('cloud_pod_hooks').values({ id: HOOK, tenant_id: TENANT_A, name: 'ledger', event: 'pod.pre_create',
    type: 'http', target: 'https://hooks.example.com/ledger' }).execute();
});

constraints.after(async () => {
  await database?.drop();
});

/** Column -> SQL expression. */
type Values = Record<string, string>;
const lit = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** A valid row of each table the cases insert into, apart from the columns a case overrides; `i` makes unique columns unique. */
const validRow: Partial<Record<TableName, (i: number) => Values>> = {
  tenants: (i) => ({ slug: lit(`tenant-${i}`), name: lit(`Tenant ${i}`) }),
  api_tokens: (i) => ({
    name: `'ci'`, token_hash: `md5('${i}') || md5('x${i}')`, token_prefix: `'cpk_abcd'`, tenant_id: lit(TENANT_A),
    created_by: `'test'`,
  }),
  system_settings: (i) => ({ namespace: `'test'`, key: lit(`key_${i}`), value: `'"v"'`, value_type: `'string'` }),
  cloud_resource_plans: (i) => ({
    code: lit(`plan-${i}`), name: `'Plan'`, cpu_cores: '1', memory_mb: '1024', disk_gb: '10', price_monthly: '5.00',
  }),
  cloud_tenant_resource_subscriptions: () => ({ tenant_id: lit(TENANT_A), plan_id: lit(PLAN), quantity: '1' }),
  cloud_tenant_resource_totals: () => ({ tenant_id: lit(TENANT_C) }),
  cloud_pod_quotas: () => ({
    tenant_id: lit(TENANT_C), max_pods: '10', max_cpu_cores: '10', max_memory_mb: '10240', max_disk_gb: '100',
  }),
  cloud_pod_templates: (i) => ({
    code: lit(`template-${i}`), name: `'Template'`, type: `'os'`, proxmox_template_vmid: '9000',
    storage_pool: `'local-lvm'`, network_bridge: `'vmbr0'`,
  }),
  cloud_pods: (i) => ({
    tenant_id: lit(TENANT_A), name: lit(`pod-${i}`), template_id: lit(TEMPLATE), cpu_cores: '1', memory_mb: '1024',
    disk_gb: '10',
  }),
  cloud_pod_volumes: (i) => ({ tenant_id: lit(TENANT_A), pod_id: lit(POD_A), name: lit(`vol-${i}`), size_gb: '10' }),
  cloud_pod_dns_records: (i) => ({
    tenant_id: lit(TENANT_A), pod_id: lit(POD_A), zone_name: `'example.com'`, hostname: lit(`host-${i}.example.com`),
    ip_address: `'192.0.2.10'`, type: `'A'`,
  }),
  cloud_pod_hooks: () => ({
    tenant_id: lit(TENANT_A), name: `'notify'`, event: `'pod.post_create'`, type: `'http'`,
    target: `'https://hooks.example.com/cloudpods'`,
  }),
  cloud_pod_hook_deliveries: (i) => ({
    hook_id: lit(HOOK), tenant_id: lit(TENANT_A), pod_id: lit(POD_A), event: `'pod.pre_create'`,
    delivery_id: lit(`msg_${i}_${HOOK}`), job_id: String(i),
  }),
  cloud_pod_audit: () => ({ actor_type: `'system'`, category: `'lifecycle'`, action: `'pod.created'` }),
  system_events: () => ({ service: `'api'`, level: `'info'`, message: `'hello'` }),
  jobs: () => ({ queue: `'cloudpods'`, type: `'pod.reconcile'` }),
  job_attempts: (i) => ({ job_id: String(i), attempt: '1', started_at: 'now()' }),
  job_workers: () => ({ name: `'worker-1'`, queue: `'cloudpods'` }),
};

let counter = 0;
/** An insert of a valid row of `table`, with `values` overriding columns. */
function row(table: TableName, values: Values = {}): string {
  const valid = validRow[table];
  if (!valid) throw new Error(`validRow has no row for ${table}`);
  const all = { ...valid(++counter), ...values };
  return `insert into ${table} (${Object.keys(all).join(', ')}) values (${Object.values(all).join(', ')})`;
}

interface PgError {
  code?: string;
  constraint?: string;
  column?: string;
  table?: string;
  message: string;
}

const rolledBack = new Error('rolled back');

/** Runs the statements in one transaction that is always rolled back. Returns PostgreSQL's error, or null. */
async function attempt(statements: readonly string[]): Promise<PgError | null> {
  try {
    await db.transaction().execute(async (trx) => {
      for (const statement of statements) await sql.raw(statement).execute(trx);
      throw rolledBack;
    });
  } catch (error) {
    if (error === rolledBack) return null;
    return error as PgError;
  }
  return null;
}

const CHECK = '23514';
const FOREIGN_KEY = '23503';
/** A delete blocked by ON DELETE RESTRICT is a restrict_violation, not a foreign_key_violation. */
const RESTRICT = '23001';
const UNIQUE = '23505';
const NOT_NULL = '23502';

interface Rejection {
  code: string;
  constraint?: string;
  column?: string;
  table?: string;
}

interface Case {
  name: string;
  sql: readonly string[];
  /** What PostgreSQL must say; absent when the statements must be accepted. */
  rejected?: Rejection;
}

async function assertCase({ sql: statements, rejected }: Case): Promise<void> {
  const error = await attempt(statements);
  if (!rejected) {
    assert.is(error, null, `expected acceptance, got: ${error?.message}`);
    return;
  }
  assert.ok(error, 'expected a rejection, but PostgreSQL accepted it');
  const said = Object.fromEntries(Object.keys(rejected).map((k) => [k, error[k as keyof PgError]]));
  assert.equal(said, rejected, error.message);
}

// ---- enumerated columns: the CHECK holds exactly the values of schema.ts, accepts each and rejects others

interface EnumCase {
  table: TableName;
  column: string;
  values: readonly string[];
  /** Other columns a valid row needs for a given value. */
  extra?: (value: string) => Values;
  /** How to write a value (default: a text literal). */
  literal?: (value: string) => string;
}

const kubeIdentity = (): Values => ({
  kube_uid: lit(`uid-${++counter}`), kube_namespace: `'default'`, kube_name: lit(`obj-${counter}`),
});

const enumCases: EnumCase[] = [
  { table: 'tenants', column: 'status', values: tenantStatuses },
  { table: 'api_tokens', column: 'permissions', values: permissions, literal: (v) => `array[${lit(v)}]` },
  {
    table: 'system_settings', column: 'value_type', values: settingValueTypes,
    extra: (v) => ({ value: ({ string: `'"x"'`, number: `'3'`, boolean: `'true'` } as Values)[v] ?? `'{"a":1}'` }),
  },
  {
    table: 'cloud_tenant_resource_subscriptions', column: 'status', values: subscriptionStatuses,
    extra: () => ({ ends_at: 'now()' }),
  },
  { table: 'cloud_pod_templates', column: 'type', values: templateTypes, extra: () => ({ app_stack: `'wordpress'` }) },
  { table: 'cloud_pods', column: 'status', values: podStatuses },
  { table: 'cloud_pods', column: 'power_state', values: powerStates },
  { table: 'cloud_pods', column: 'health_status', values: healthStatuses },
  { table: 'cloud_pod_volumes', column: 'status', values: volumeStatuses },
  {
    table: 'cloud_pod_dns_records', column: 'type', values: dnsRecordTypes,
    extra: (v) => ({ ip_address: v === 'AAAA' ? `'2001:db8::10'` : `'192.0.2.10'` }),
  },
  { table: 'cloud_pod_dns_records', column: 'status', values: dnsRecordStatuses },
  { table: 'cloud_pod_dns_records', column: 'origin', values: dnsRecordOrigins },
  { table: 'cloud_pod_hooks', column: 'event', values: hookEvents },
  {
    table: 'cloud_pod_hooks', column: 'type', values: hookTypes,
    extra: (v) => ({ target: v === 'script' ? `'notify-crm'` : `'https://hooks.example.com/x'` }),
  },
  ...(['cloud_pods', 'cloud_pod_volumes', 'cloud_pod_dns_records', 'cloud_pod_hooks'] as const).map(
    (table): EnumCase => ({ table, column: 'managed_by', values: managedByValues, extra: kubeIdentity }),
  ),
  { table: 'cloud_pod_hook_deliveries', column: 'event', values: hookEvents },
  {
    table: 'cloud_pod_hook_deliveries', column: 'status', values: hookDeliveryStatuses,
    extra: (v): Values => ((finishedHookDeliveryStatuses as readonly string[]).includes(v) ? { finished_at: 'now()' } : {}),
  },
  { table: 'cloud_pod_audit', column: 'actor_type', values: auditActorTypes },
  { table: 'cloud_pod_audit', column: 'category', values: auditCategories },
  { table: 'system_events', column: 'level', values: systemEventLevels },
  {
    table: 'jobs', column: 'status', values: jobStatuses,
    extra: () => ({ locked_by: 'gen_random_uuid()', started_at: 'now()' }),
  },
  { table: 'job_attempts', column: 'outcome', values: jobAttemptOutcomes, extra: () => ({ finished_at: 'now()' }) },
  { table: 'job_workers', column: 'status', values: jobWorkerStatuses },
];

for (const { table, column, values, extra = () => ({}), literal = lit } of enumCases) {
  const constraint = `${table}_${column}_check`;
  const insert = (value: string) => row(table, { ...extra(value), [column]: literal(value) });

  constraints(`${constraint} allows exactly the values of schema.ts`, async () => {
    const { rows } = await sql<{ definition: string }>`
      select pg_get_constraintdef(oid) as definition from pg_constraint where conname = ${constraint}`.execute(db);
    const definition = rows[0]?.definition ?? '';
    const allowed = [...definition.matchAll(/'([^']*)'::text/g)].map((m) => m[1]);
    assert.equal(allowed.sort(), [...values].sort(), definition);
    await assertCase({ name: 'each value', sql: values.map(insert) });
    await assertCase({ name: 'bad value', sql: [insert('bogus')], rejected: { code: CHECK, constraint } });
  });
}

// ---- other CHECKs

const check = (constraint: string): Rejection => ({ code: CHECK, constraint });

const checkCases: Case[] = [
  { name: 'tenant slug must be a DNS label', sql: [row('tenants', { slug: `'Tenant_A'` })], rejected: check('tenants_slug_check') },
  { name: 'tenant slug cannot end in a hyphen', sql: [row('tenants', { slug: `'tenant-'` })], rejected: check('tenants_slug_check') },
  {
    name: 'a token has a tenant or is an admin token',
    sql: [row('api_tokens', { tenant_id: 'null', is_admin: 'false' })], rejected: check('api_tokens_scope_check'),
  },
  { name: 'an admin token needs no tenant', sql: [row('api_tokens', { tenant_id: 'null', is_admin: 'true' })] },
  {
    name: 'token_hash is hex SHA-256', sql: [row('api_tokens', { token_hash: `'not-a-hash'` })],
    rejected: check('api_tokens_token_hash_check'),
  },
  {
    name: 'setting value must match value_type', sql: [row('system_settings', { value: `'"3"'`, value_type: `'number'` })],
    rejected: check('system_settings_value_type_matches_check'),
  },
  { name: 'setting namespace is lowercase', sql: [row('system_settings', { namespace: `'Cloud Pods'` })], rejected: check('system_settings_namespace_check') },
  { name: 'setting key is dotted lowercase', sql: [row('system_settings', { key: `'auto heal'` })], rejected: check('system_settings_key_check') },
  { name: 'plan code is slug-like', sql: [row('cloud_resource_plans', { code: `'Cloud Basic'` })], rejected: check('cloud_resource_plans_code_check') },
  { name: 'plan price >= 0', sql: [row('cloud_resource_plans', { price_monthly: '-0.01' })], rejected: check('cloud_resource_plans_price_monthly_check') },
  { name: 'plan cpu_cores >= 0', sql: [row('cloud_resource_plans', { cpu_cores: '-1' })], rejected: check('cloud_resource_plans_cpu_cores_check') },
  { name: 'plan memory_mb >= 0', sql: [row('cloud_resource_plans', { memory_mb: '-1' })], rejected: check('cloud_resource_plans_memory_mb_check') },
  { name: 'plan disk_gb >= 0', sql: [row('cloud_resource_plans', { disk_gb: '-1' })], rejected: check('cloud_resource_plans_disk_gb_check') },
  { name: 'plan bandwidth_gb >= 0', sql: [row('cloud_resource_plans', { bandwidth_gb: '-1' })], rejected: check('cloud_resource_plans_bandwidth_gb_check') },
  { name: 'plan pods_count >= 0', sql: [row('cloud_resource_plans', { pods_count: '-1' })], rejected: check('cloud_resource_plans_pods_count_check') },
  {
    name: 'subscription quantity > 0', sql: [row('cloud_tenant_resource_subscriptions', { quantity: '0' })],
    rejected: check('cloud_tenant_resource_subscriptions_quantity_check'),
  },
  {
    name: 'a cancelled subscription has ends_at', sql: [row('cloud_tenant_resource_subscriptions', { status: `'cancelled'` })],
    rejected: check('cloud_tenant_resource_subscriptions_cancelled_check'),
  },
  {
    name: 'a subscription cannot end before it starts',
    sql: [row('cloud_tenant_resource_subscriptions', { started_at: 'now()', ends_at: `now() - interval '1 day'` })],
    rejected: check('cloud_tenant_resource_subscriptions_period_check'),
  },
  ...['cpu_cores_total', 'memory_mb_total', 'disk_gb_total', 'bandwidth_gb_total', 'pods_total'].map((column): Case => ({
    name: `totals ${column} >= 0`, sql: [row('cloud_tenant_resource_totals', { [column]: '-1' })],
    rejected: check(`cloud_tenant_resource_totals_${column}_check`),
  })),
  ...['max_pods', 'max_cpu_cores', 'max_memory_mb', 'max_disk_gb', 'max_bandwidth_gb'].map((column): Case => ({
    name: `quota ${column} >= 0`, sql: [row('cloud_pod_quotas', { [column]: '-1' })],
    rejected: check(`cloud_pod_quotas_${column}_check`),
  })),
  { name: 'quota bandwidth may be unlimited (null)', sql: [row('cloud_pod_quotas', { max_bandwidth_gb: 'null' })] },
  { name: 'totals bandwidth may be unmetered (null)', sql: [row('cloud_tenant_resource_totals', { bandwidth_gb_total: 'null' })] },
  {
    name: 'template VMID >= 100', sql: [row('cloud_pod_templates', { proxmox_template_vmid: '99' })],
    rejected: check('cloud_pod_templates_proxmox_template_vmid_check'),
  },
  {
    name: 'an app template names its app_stack', sql: [row('cloud_pod_templates', { type: `'app'` })],
    rejected: check('cloud_pod_templates_app_stack_check'),
  },
  { name: 'template tags are an array', sql: [row('cloud_pod_templates', { tags: `'{"a":1}'` })], rejected: check('cloud_pod_templates_tags_check') },
  { name: 'template code is slug-like', sql: [row('cloud_pod_templates', { code: `'Ubuntu 24'` })], rejected: check('cloud_pod_templates_code_check') },
  ...['cpu_cores', 'memory_mb', 'disk_gb'].map((column): Case => ({
    name: `pod ${column} > 0`, sql: [row('cloud_pods', { [column]: '0' })], rejected: check(`cloud_pods_${column}_check`),
  })),
  { name: 'pod name is an RFC 1123 label', sql: [row('cloud_pods', { name: `'Web_1'` })], rejected: check('cloud_pods_name_check') },
  { name: 'pod name has at most 63 characters', sql: [row('cloud_pods', { name: lit('a'.repeat(64)) })], rejected: check('cloud_pods_name_check') },
  { name: 'pod name of 63 characters is fine', sql: [row('cloud_pods', { name: lit('a'.repeat(63)) })] },
  { name: 'pod hostname is a host name', sql: [row('cloud_pods', { hostname: `'app!example.com'` })], rejected: check('cloud_pods_hostname_check') },
  { name: 'pod hostname has no spaces', sql: [row('cloud_pods', { hostname: `'a b.example.com'` })], rejected: check('cloud_pods_hostname_check') },
  { name: 'pod hostname with dots is fine', sql: [row('cloud_pods', { hostname: `'app.client-domain.com'`, zone: `'client-domain.com'` })] },
  { name: 'pod VMID >= 100', sql: [row('cloud_pods', { vmid: '99' })], rejected: check('cloud_pods_vmid_check') },
  { name: 'pod ssh_keys is an array', sql: [row('cloud_pods', { ssh_keys: `'"ssh-ed25519 AAAA"'` })], rejected: check('cloud_pods_ssh_keys_check') },
  { name: 'pod app_options is an object', sql: [row('cloud_pods', { app_options: `'[]'` })], rejected: check('cloud_pods_app_options_check') },
  { name: 'pod health_check is an object', sql: [row('cloud_pods', { health_check: `'[]'` })], rejected: check('cloud_pods_health_check_check') },
  { name: 'pod health_check names a known probe type', sql: [row('cloud_pods', { health_check: `'{"type":"icmp"}'` })], rejected: check('cloud_pods_health_check_check') },
  { name: 'pod health_check of type tcp is fine', sql: [row('cloud_pods', { health_check: `'{"type":"tcp","port":22}'` })] },
  { name: 'pod ip_addresses is an array', sql: [row('cloud_pods', { ip_addresses: `'{}'` })], rejected: check('cloud_pods_ip_addresses_check') },
  { name: 'generation >= 1', sql: [row('cloud_pods', { generation: '0' })], rejected: check('cloud_pods_generation_check') },
  {
    name: 'observed_generation <= generation', sql: [row('cloud_pods', { generation: '2', observed_generation: '3' })],
    rejected: check('cloud_pods_observed_generation_check'),
  },
  { name: 'conditions is an array', sql: [row('cloud_pods', { conditions: `'{}'` })], rejected: check('cloud_pods_conditions_check') },
  ...(['cloud_pods', 'cloud_pod_volumes', 'cloud_pod_dns_records', 'cloud_pod_hooks'] as const).map((table): Case => ({
    name: `${table}: a kubernetes-managed row names its resource`,
    sql: [row(table, { managed_by: `'kubernetes'`, kube_uid: `'uid-1'`, kube_namespace: `'default'` })],
    rejected: check(`${table}_kube_identity_check`),
  })),
  { name: 'volume size_gb > 0', sql: [row('cloud_pod_volumes', { size_gb: '0' })], rejected: check('cloud_pod_volumes_size_gb_check') },
  { name: 'volume name is an RFC 1123 label', sql: [row('cloud_pod_volumes', { name: `'Data Disk'` })], rejected: check('cloud_pod_volumes_name_check') },
  {
    name: 'DNS hostname is inside its zone', sql: [row('cloud_pod_dns_records', { hostname: `'app.notexample.com'` })],
    rejected: check('cloud_pod_dns_records_hostname_in_zone_check'),
  },
  { name: 'DNS hostname may be the zone apex', sql: [row('cloud_pod_dns_records', { hostname: `'example.com'` })] },
  {
    name: 'DNS zone_name is a host name', sql: [row('cloud_pod_dns_records', { zone_name: `'example.com.'`, hostname: `'example.com.'` })],
    rejected: check('cloud_pod_dns_records_hostname_check'),
  },
  {
    name: 'an A record holds an IPv4 address', sql: [row('cloud_pod_dns_records', { ip_address: `'2001:db8::1'` })],
    rejected: check('cloud_pod_dns_records_ip_address_check'),
  },
  {
    name: 'IPv4 octets are <= 255', sql: [row('cloud_pod_dns_records', { ip_address: `'192.0.2.256'` })],
    rejected: check('cloud_pod_dns_records_ip_address_check'),
  },
  {
    name: 'an AAAA record holds an IPv6 address', sql: [row('cloud_pod_dns_records', { type: `'AAAA'` })],
    rejected: check('cloud_pod_dns_records_ip_address_check'),
  },
  {
    name: 'an http hook targets an http(s) URL', sql: [row('cloud_pod_hooks', { target: `'ftp://example.com/x'` })],
    rejected: check('cloud_pod_hooks_target_check'),
  },
  {
    name: 'a script hook targets a script identifier', sql: [row('cloud_pod_hooks', { type: `'script'`, target: `'../bin/sh'` })],
    rejected: check('cloud_pod_hooks_target_check'),
  },
  { name: 'hook config is an object', sql: [row('cloud_pod_hooks', { config: `'[]'` })], rejected: check('cloud_pod_hooks_config_check') },
  {
    name: 'a delivery has finished_at exactly when it has ended',
    sql: [row('cloud_pod_hook_deliveries', { status: `'delivered'` })], rejected: check('cloud_pod_hook_deliveries_finished_check'),
  },
  {
    name: 'a pending delivery has not finished',
    sql: [row('cloud_pod_hook_deliveries', { finished_at: 'now()' })], rejected: check('cloud_pod_hook_deliveries_finished_check'),
  },
  {
    name: 'delivery attempts >= 0', sql: [row('cloud_pod_hook_deliveries', { attempts: '-1' })],
    rejected: check('cloud_pod_hook_deliveries_attempts_check'),
  },
  { name: 'audit details is an object', sql: [row('cloud_pod_audit', { details: `'[]'` })], rejected: check('cloud_pod_audit_details_check') },
  { name: 'event context is an object', sql: [row('system_events', { context: `'"x"'` })], rejected: check('system_events_context_check') },
  { name: 'job payload is an object', sql: [row('jobs', { payload: `'[]'` })], rejected: check('jobs_payload_check') },
  { name: 'job attempts >= 0', sql: [row('jobs', { attempts: '-1' })], rejected: check('jobs_attempts_check') },
  { name: 'job max_attempts >= 1', sql: [row('jobs', { max_attempts: '0' })], rejected: check('jobs_max_attempts_check') },
  {
    name: 'a running job has a worker and a start time', sql: [row('jobs', { status: `'running'`, started_at: 'now()' })],
    rejected: check('jobs_running_check'),
  },
  { name: 'attempt numbers start at 1', sql: [row('job_attempts', { attempt: '0' })], rejected: check('job_attempts_attempt_check') },
  {
    name: 'an attempt outcome comes with finished_at', sql: [row('job_attempts', { outcome: `'completed'` })],
    rejected: check('job_attempts_finished_check'),
  },
  { name: 'worker concurrency >= 1', sql: [row('job_workers', { concurrency: '0' })], rejected: check('job_workers_concurrency_check') },
  { name: 'worker pid > 0', sql: [row('job_workers', { pid: '0' })], rejected: check('job_workers_pid_check') },
];

// ---- foreign keys

const fk = (constraint: string): Rejection => ({ code: FOREIGN_KEY, constraint });
const restrict = (constraint: string): Rejection => ({ code: RESTRICT, constraint });
const UNKNOWN = `'00000000-0000-4000-8000-000000000000'`;

const foreignKeyCases: Case[] = [
  { name: 'pod of an unknown tenant', sql: [row('cloud_pods', { tenant_id: UNKNOWN })], rejected: fk('cloud_pods_tenant_id_fkey') },
  { name: 'pod from an unknown template', sql: [row('cloud_pods', { template_id: UNKNOWN })], rejected: fk('cloud_pods_template_id_fkey') },
  { name: 'token of an unknown tenant', sql: [row('api_tokens', { tenant_id: UNKNOWN })], rejected: fk('api_tokens_tenant_id_fkey') },
  {
    name: 'subscription to an unknown plan', sql: [row('cloud_tenant_resource_subscriptions', { plan_id: UNKNOWN })],
    rejected: fk('cloud_tenant_resource_subscriptions_plan_id_fkey'),
  },
  {
    name: 'template with an unknown minimum plan', sql: [row('cloud_pod_templates', { minimum_plan_code: `'no-such-plan'` })],
    rejected: fk('cloud_pod_templates_minimum_plan_code_fkey'),
  },
  { name: 'volume of an unknown pod', sql: [row('cloud_pod_volumes', { pod_id: UNKNOWN })], rejected: fk('cloud_pod_volumes_pod_id_fkey') },
  {
    name: 'volume on another tenant\'s pod', sql: [row('cloud_pod_volumes', { pod_id: lit(POD_B) })],
    rejected: fk('cloud_pod_volumes_pod_id_fkey'),
  },
  {
    name: 'DNS record on another tenant\'s pod', sql: [row('cloud_pod_dns_records', { pod_id: lit(POD_B) })],
    rejected: fk('cloud_pod_dns_records_pod_id_fkey'),
  },
  { name: 'DNS record without a pod', sql: [row('cloud_pod_dns_records', { pod_id: 'null' })] },
  { name: 'hook of an unknown tenant', sql: [row('cloud_pod_hooks', { tenant_id: UNKNOWN })], rejected: fk('cloud_pod_hooks_tenant_id_fkey') },
  {
    name: 'delivery to an unknown hook', sql: [row('cloud_pod_hook_deliveries', { hook_id: UNKNOWN })],
    rejected: fk('cloud_pod_hook_deliveries_hook_id_fkey'),
  },
  {
    name: 'a delivery may name a pod and a job that are gone',
    sql: [row('cloud_pod_hook_deliveries', { pod_id: UNKNOWN, job_id: '999999999' })],
  },
  { name: 'audit may name tenants and pods that do not exist', sql: [row('cloud_pod_audit', { tenant_id: UNKNOWN, pod_id: UNKNOWN })] },
  { name: 'a tenant with pods cannot be deleted', sql: [`delete from tenants where id = ${lit(TENANT_A)}`], rejected: restrict('cloud_pods_tenant_id_fkey') },
  { name: 'a template in use cannot be deleted', sql: [`delete from cloud_pod_templates where id = ${lit(TEMPLATE)}`], rejected: restrict('cloud_pods_template_id_fkey') },
  {
    name: 'a subscribed plan cannot be deleted',
    sql: [row('cloud_tenant_resource_subscriptions'), `delete from cloud_resource_plans where id = ${lit(PLAN)}`],
    rejected: restrict('cloud_tenant_resource_subscriptions_plan_id_fkey'),
  },
  {
    name: 'a plan some template requires cannot be deleted',
    sql: [row('cloud_pod_templates', { minimum_plan_code: `'cloud-basic'` }), `delete from cloud_resource_plans where id = ${lit(PLAN)}`],
    rejected: restrict('cloud_pod_templates_minimum_plan_code_fkey'),
  },
  {
    name: 'a pod with volumes cannot be deleted',
    sql: [row('cloud_pod_volumes'), `delete from cloud_pods where id = ${lit(POD_A)}`],
    rejected: restrict('cloud_pod_volumes_pod_id_fkey'),
  },
  {
    name: 'a pod with DNS records cannot be deleted',
    sql: [row('cloud_pod_dns_records'), `delete from cloud_pods where id = ${lit(POD_A)}`],
    rejected: restrict('cloud_pod_dns_records_pod_id_fkey'),
  },
];

// ---- unique

const unique = (constraint: string): Rejection => ({ code: UNIQUE, constraint });
const twice = (statement: string) => [statement, statement];

const uniqueCases: Case[] = [
  { name: 'tenant slug', sql: twice(row('tenants', { slug: `'acme'` })), rejected: unique('tenants_slug_key') },
  { name: 'token hash', sql: twice(row('api_tokens')), rejected: unique('api_tokens_token_hash_key') },
  {
    name: 'setting (namespace, key)', sql: twice(row('system_settings', { namespace: `'cloudpods'`, key: `'auto_heal.enabled'` })),
    rejected: unique('system_settings_namespace_key_key'),
  },
  {
    name: 'one key in two namespaces is fine',
    sql: [row('system_settings', { namespace: `'cloudpods'`, key: `'x.y'` }), row('system_settings', { namespace: `'platform'`, key: `'x.y'` })],
  },
  { name: 'plan code', sql: twice(row('cloud_resource_plans')), rejected: unique('cloud_resource_plans_code_key') },
  { name: 'template code', sql: twice(row('cloud_pod_templates')), rejected: unique('cloud_pod_templates_code_key') },
  { name: 'one totals row per tenant', sql: twice(row('cloud_tenant_resource_totals')), rejected: unique('cloud_tenant_resource_totals_tenant_id_key') },
  { name: 'one quota row per tenant', sql: twice(row('cloud_pod_quotas')), rejected: unique('cloud_pod_quotas_tenant_id_key') },
  { name: 'pod name per tenant', sql: [row('cloud_pods', { name: `'web'` })], rejected: unique('cloud_pods_tenant_id_name_key') },
  {
    name: 'a pod name is free again once its pod is being deleted',
    sql: [`update cloud_pods set deletion_requested_at = now() where id = ${lit(POD_A)}`, row('cloud_pods', { name: `'web'` })],
  },
  { name: 'pod VMID', sql: [row('cloud_pods', { vmid: '101' }), row('cloud_pods', { vmid: '101' })], rejected: unique('cloud_pods_vmid_key') },
  {
    name: 'kube_uid', sql: [row('cloud_pods', { kube_uid: `'uid-x'` }), row('cloud_pods', { kube_uid: `'uid-x'` })],
    rejected: unique('cloud_pods_kube_uid_key'),
  },
  {
    // 0009: one CloudPodDNSRecord is served by a row per address, each carrying the resource's identity.
    name: 'DNS rows of one resource share its kube_uid',
    sql: ['192.0.2.10', '192.0.2.11'].map((ip) => row('cloud_pod_dns_records', { hostname: `'www.example.com'`,
      ip_address: lit(ip), managed_by: `'kubernetes'`, kube_uid: `'uid-d'`, kube_namespace: `'default'`, kube_name: `'www'` })),
  },
  { name: 'volume name per pod', sql: twice(row('cloud_pod_volumes', { name: `'data'` })), rejected: unique('cloud_pod_volumes_pod_id_name_key') },
  {
    name: 'a volume name is free again once its volume is being deleted',
    sql: [row('cloud_pod_volumes', { name: `'data'`, deletion_requested_at: 'now()' }), row('cloud_pod_volumes', { name: `'data'` })],
  },
  {
    name: 'DNS (hostname, type, ip_address)', sql: twice(row('cloud_pod_dns_records', { hostname: `'app.example.com'` })),
    rejected: unique('cloud_pod_dns_records_hostname_type_ip_address_key'),
  },
  {
    name: 'one pending job per (queue, key)', sql: twice(row('jobs', { key: `'pod:1'` })),
    rejected: unique('jobs_pending_key_idx'),
  },
  {
    name: 'one running job per (queue, key)',
    sql: twice(row('jobs', { key: `'pod:1'`, status: `'running'`, locked_by: 'gen_random_uuid()', started_at: 'now()' })),
    rejected: unique('jobs_running_key_idx'),
  },
  {
    name: 'a key may have one pending and one running job, and any number of finished ones',
    sql: [
      row('jobs', { key: `'pod:1'` }),
      row('jobs', { key: `'pod:1'`, status: `'running'`, locked_by: 'gen_random_uuid()', started_at: 'now()' }),
      row('jobs', { key: `'pod:1'`, status: `'completed'` }),
      row('jobs', { key: `'pod:1'`, status: `'completed'` }),
      row('jobs', { key: `'pod:1'`, queue: `'webhooks'` }),
    ],
  },
  { name: 'keyless jobs are not deduplicated', sql: twice(row('jobs')) },
  { name: 'attempt number per job', sql: twice(row('job_attempts')), rejected: unique('job_attempts_job_id_attempt_key') },
  {
    name: 'one ledger row per delivery id', sql: twice(row('cloud_pod_hook_deliveries', { delivery_id: `'msg_1_x'` })),
    rejected: unique('cloud_pod_hook_deliveries_delivery_id_key'),
  },
];

// ---- not null

const notNull = (table: TableName, column: string): Case => ({
  name: `${table}.${column}`,
  sql: [row(table, { [column]: 'null' })],
  rejected: { code: NOT_NULL, table, column },
});

const notNullCases: Case[] = [
  notNull('tenants', 'name'),
  notNull('tenants', 'status'),
  notNull('api_tokens', 'token_hash'),
  notNull('api_tokens', 'token_prefix'),
  notNull('api_tokens', 'created_by'),
  notNull('api_tokens', 'permissions'),
  notNull('system_settings', 'value'),
  notNull('cloud_resource_plans', 'price_monthly'),
  notNull('cloud_tenant_resource_subscriptions', 'tenant_id'),
  notNull('cloud_pod_templates', 'proxmox_template_vmid'),
  notNull('cloud_pod_templates', 'storage_pool'),
  notNull('cloud_pods', 'tenant_id'),
  notNull('cloud_pods', 'template_id'),
  notNull('cloud_pods', 'cpu_cores'),
  notNull('cloud_pods', 'conditions'),
  notNull('cloud_pod_volumes', 'pod_id'),
  notNull('cloud_pod_dns_records', 'ip_address'),
  notNull('cloud_pod_hooks', 'target'),
  notNull('cloud_pod_hook_deliveries', 'job_id'),
  notNull('cloud_pod_audit', 'action'),
  notNull('system_events', 'message'),
  notNull('jobs', 'queue'),
  notNull('jobs', 'scheduled_at'),
  notNull('job_attempts', 'started_at'),
  notNull('job_workers', 'last_heartbeat_at'),
];

for (const [group, cases] of [
  ['check', checkCases],
  ['foreign key', foreignKeyCases],
  ['unique', uniqueCases],
  ['not null', notNullCases],
] as const) {
  for (const c of cases) constraints(`${group}: ${c.name}${c.rejected ? '' : ' (accepted)'}`, () => assertCase(c));
}

// ---- behaviour beyond single statements

constraints('defaults of a minimal pod and job', async () => {
  await db.transaction().execute(async (trx) => {
    const pod = await trx.insertInto('cloud_pods')
      .values({ tenant_id: TENANT_B, name: 'defaults', template_id: TEMPLATE, cpu_cores: 1, memory_mb: 512, disk_gb: 5 })
      .returningAll().executeTakeFirstOrThrow();
    assert.equal(
      { status: pod.status, power_state: pod.power_state, managed_by: pod.managed_by, generation: pod.generation,
        observed_generation: pod.observed_generation, conditions: pod.conditions, ssh_keys: pod.ssh_keys,
        app_options: pod.app_options, ip_addresses: pod.ip_addresses },
      { status: 'pending', power_state: 'running', managed_by: 'api', generation: 1, observed_generation: 0,
        conditions: [], ssh_keys: [], app_options: {}, ip_addresses: [] });
    assert.instance(pod.created_at, Date);

    const job = await trx.insertInto('jobs').values({ queue: 'cloudpods', type: 'pod.reconcile', key: `pod:${pod.id}` })
      .returningAll().executeTakeFirstOrThrow();
    assert.equal(
      { status: job.status, priority: job.priority, attempts: job.attempts, max_attempts: job.max_attempts, payload: job.payload },
      { status: 'pending', priority: 0, attempts: 0, max_attempts: 25, payload: {} });
    assert.type(job.id, 'number', 'bigint ids are parsed to numbers');
    await trx.deleteFrom('jobs').where('id', '=', job.id).execute();
    await trx.deleteFrom('cloud_pods').where('id', '=', pod.id).execute();
  });
});

constraints('deleting a tenant without pods cascades to its tokens, hooks, quota, totals and subscriptions', async () => {
  const setup = [
    row('api_tokens', { tenant_id: lit(TENANT_C) }),
    row('cloud_pod_hooks', { tenant_id: lit(TENANT_C) }),
    row('cloud_pod_quotas'),
    row('cloud_tenant_resource_totals'),
    row('cloud_tenant_resource_subscriptions', { tenant_id: lit(TENANT_C) }),
  ];
  await db.transaction().execute(async (trx) => {
    for (const statement of setup) await sql.raw(statement).execute(trx);
    await trx.deleteFrom('tenants').where('id', '=', TENANT_C).execute();
    const { rows } = await sql<{ left: number }>`
      select (select count(*) from api_tokens where tenant_id = ${TENANT_C})
           + (select count(*) from cloud_pod_hooks where tenant_id = ${TENANT_C})
           + (select count(*) from cloud_pod_quotas where tenant_id = ${TENANT_C})
           + (select count(*) from cloud_tenant_resource_totals where tenant_id = ${TENANT_C})
           + (select count(*) from cloud_tenant_resource_subscriptions where tenant_id = ${TENANT_C}) as left`
      .execute(trx);
    assert.is(rows[0]?.left, 0);
    throw rolledBack;
  }).catch((error: unknown) => {
    if (error !== rolledBack) throw error;
  });
  assert.ok(await db.selectFrom('tenants').where('id', '=', TENANT_C).executeTakeFirst(), 'rolled back');
});

constraints('a hook\'s deliveries go with it', async () => {
  const left = await db.transaction().execute(async (trx) => {
    await sql.raw(row('cloud_pod_hook_deliveries')).execute(trx);
    await trx.deleteFrom('cloud_pod_hooks').where('id', '=', HOOK).execute();
    const rows = await trx.selectFrom('cloud_pod_hook_deliveries').select('id').where('hook_id', '=', HOOK).execute();
    throw Object.assign(new Error('rolled back'), { rows });
  }).catch((error: { rows?: unknown[] }) => error.rows);
  assert.equal(left, []);
});

constraints('renaming a plan code carries its templates along', async () => {
  await db.transaction().execute(async (trx) => {
    await sql.raw(row('cloud_pod_templates', { code: `'wordpress'`, minimum_plan_code: `'cloud-basic'` })).execute(trx);
    await trx.updateTable('cloud_resource_plans').set({ code: 'cloud-starter' }).where('id', '=', PLAN).execute();
    const template = await trx.selectFrom('cloud_pod_templates').select('minimum_plan_code')
      .where('code', '=', 'wordpress').executeTakeFirstOrThrow();
    assert.is(template.minimum_plan_code, 'cloud-starter');
    throw rolledBack;
  }).catch((error: unknown) => {
    if (error !== rolledBack) throw error;
  });
});

constraints('every table has a comment saying what it is for', async () => {
  const { rows: uncommented } = await sql<{ table: string }>`
    select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r' and c.relname not like 'kysely%'
       and obj_description(c.oid, 'pg_class') is null`.execute(db);
  assert.equal(uncommented, []);
});

constraints('jobs has the storage parameters of notes/jobs.md', async () => {
  const { rows } = await sql<{ options: string[] }>`
    select reloptions as options from pg_class where oid = 'public.jobs'::regclass`.execute(db);
  assert.equal(rows[0]?.options.sort(), [
    'autovacuum_analyze_scale_factor=0.02',
    'autovacuum_vacuum_cost_delay=1',
    'autovacuum_vacuum_insert_scale_factor=0',
    'autovacuum_vacuum_insert_threshold=5000',
    'autovacuum_vacuum_scale_factor=0',
    'autovacuum_vacuum_threshold=2000',
    'fillfactor=70',
  ]);
});

constraints('the job claim uses the ready index', async () => {
  await db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    const { rows } = await sql<{ 'QUERY PLAN': string }>`
      explain select id from jobs
       where queue = 'cloudpods' and status = 'pending' and scheduled_at <= now()
       order by priority desc, scheduled_at, id limit 10 for update skip locked`.execute(trx);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, 'jobs_ready_idx');
  });
});

constraints('a hook\'s deliveries are read through their index', async () => {
  await db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    const { rows } = await sql<{ 'QUERY PLAN': string }>`
      explain select id from cloud_pod_hook_deliveries where hook_id = '00000000-0000-4000-8000-000000000000'
       order by id desc limit 20`.execute(trx);
    assert.match(rows.map((r) => r['QUERY PLAN']).join('\n'), 'cloud_pod_hook_deliveries_hook_idx');
  });
});

constraints('the blocking-hook gate reads a pod\'s event and blocking deliveries through their indexes', async () => {
  await db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    const pod = '00000000-0000-4000-8000-000000000000';
    const plan = async (query: ReturnType<typeof sql>) =>
      (await sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(trx)).rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(await plan(sql`select id from jobs where type = 'lifecycle.event' and payload->>'pod_id' = ${pod}
      and payload->>'event' = 'pod.pre_create'`), 'jobs_lifecycle_events_pod_idx');
    assert.match(await plan(sql`select id from cloud_pod_hook_deliveries where blocking and pod_id = ${pod}
      and event = 'pod.pre_create'`), 'cloud_pod_hook_deliveries_blocking_idx');
  });
});

constraints.run();
