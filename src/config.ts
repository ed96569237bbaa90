import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { dnsLabelSchema } from './dns/label.ts';

/**
 * Typed configuration from environment variables and an optional YAML file (CLOUDPODS_CONFIG).
 * Precedence: environment variable, then `<VARIABLE>_FILE` for secrets, then the YAML file, then the default.
 * Every problem is collected and reported at once, each naming its field and variable.
 */

export type Mode = 'dev' | 'serve';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (min: number, max: number) =>
  z.coerce.number({ error: 'expected a number' }).int('expected a whole number')
    .min(min, `expected at least ${min}`).max(max, `expected at most ${max}`);

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// or postgresql:// URL');

export const configSchema = z.strictObject({
  server: z.strictObject({
    host: z.string().min(1, 'must not be empty').optional(),
    port: integer(0, 65535).default(8080),
    bodyLimitBytes: integer(1024, 64 * 1024 * 1024).default(1024 * 1024),
    shutdownTimeoutMs: integer(0, 600_000).default(10_000),
  }).prefault({}),
  database: z.strictObject({
    url: postgresUrl.optional(),
    poolMax: integer(1, 500).default(10),
    statementTimeoutMs: integer(0, 3_600_000).default(30_000),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` }).default('info'),
  }).prefault({}),
  dev: z.strictObject({
    dataDir: z.string().min(1, 'must not be empty').default('.cloudpods'),
  }).prefault({}),
  proxmox: z.strictObject({
    url: z.string().regex(/^https:\/\/[^\s/]+(\/api2\/json)?\/?$/, 'expected https://host[:port]').optional(),
    token: z.strictObject({
      id: z.string().regex(/^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9._-]*$/, 'expected USER@REALM!TOKENID').optional(),
      secret: z.string().min(1, 'must not be empty').optional(),
    }).prefault({}),
    transport: z.enum(['https', 'ssh'], { error: 'expected https or ssh' }).default('https'),
    tls: z.strictObject({
      caFile: z.string().min(1, 'must not be empty').optional(),
      fingerprint: z.string().regex(/^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'expected a SHA-256 fingerprint AB:CD:... (32 bytes)')
        .optional(),
    }).prefault({}),
    ssh: z.strictObject({
      host: z.string().min(1, 'must not be empty').optional(),
      port: integer(1, 65535).default(22),
      user: z.string().min(1, 'must not be empty').default('root'),
      privateKey: z.string().min(1, 'must not be empty').optional(),
      hostKeyFingerprint: z.string()
        .regex(/^SHA256:[A-Za-z0-9+/]{43}=?(?:\s*,\s*SHA256:[A-Za-z0-9+/]{43}=?)*$/, 'expected SHA256:<base64>, comma-separated')
        .optional(),
      nodeHosts: z.string().regex(/^[A-Za-z0-9-]+=[^\s,=]+(?:,[A-Za-z0-9-]+=[^\s,=]+)*$/, 'expected node=host[:port],...')
        .optional(),
    }).prefault({}),
    concurrency: z.strictObject({
      perNode: integer(1, 256).default(4),
      perStorage: integer(1, 256).default(2),
      clonesPerNode: integer(1, 64).default(3),
    }).prefault({}),
    vmids: z.strictObject({
      min: integer(100, 999_999_999).default(10_000),
      max: integer(100, 999_999_999).default(99_999),
    }).prefault({}),
    requestTimeoutMs: integer(100, 600_000).default(30_000),
    taskPollIntervalMs: integer(10, 60_000).default(1000),
    snippets: z.strictObject({
      storage: z.string().min(1, 'must not be empty').default('local'),
      directory: z.string().regex(/^\//, 'expected an absolute path').default('/var/lib/vz/snippets'),
    }).prefault({}),
  }).prefault({}),
  powerdns: z.strictObject({
    apiUrl: z.string().regex(/^https?:\/\/[^\s/]+\/?$/, 'expected http(s)://host:port').optional(),
    apiKey: z.string().min(1, 'must not be empty').optional(),
    serverId: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a server id such as localhost').default('localhost'),
    dnsHost: z.string().min(1, 'must not be empty').optional(),
    dnsPort: integer(1, 65535).default(53),
    serializeWrites: z.union([z.boolean(), z.stringbool()], { error: 'expected true or false' }).default(true),
    ownerId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and hyphens')
      .default('cloudpods'),
    requestTimeoutMs: integer(100, 600_000).default(30_000),
  }).superRefine((value, context) => {
    if (value.apiUrl && !value.apiKey) context.addIssue({ code: 'custom', path: ['apiKey'], message: 'required with powerdns.apiUrl' });
  }).prefault({}),
  hooks: z.strictObject({
    scriptsDirectory: z.string().regex(/^\//, 'expected an absolute path').optional(),
  }).prefault({}),
  kube: z.strictObject({
    enabled: z.union([z.boolean(), z.stringbool()], { error: 'expected true or false' }).default(true),
    kubeconfig: z.string().min(1, 'must not be empty').optional(),
    leaseNamespace: dnsLabelSchema.optional(),
    leaseName: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'expected a Lease name').default('cloudpods-bridge'),
    leaseDurationSeconds: integer(1, 3600).default(15),
    renewDeadlineSeconds: integer(1, 3600).default(10),
    retryPeriodMs: integer(50, 600_000).default(2000),
    resyncIntervalMs: integer(50, 3_600_000).default(30_000),
    watchInactivitySeconds: integer(1, 3600).default(70),
  }).superRefine((value, context) => {
    if (value.renewDeadlineSeconds >= value.leaseDurationSeconds) {
      context.addIssue({ code: 'custom', path: ['renewDeadlineSeconds'], message: 'must be below kube.leaseDurationSeconds' });
    }
  }).prefault({}),
});

type ParsedConfig = z.infer<typeof configSchema>;

export interface Config extends ParsedConfig {
  mode: Mode;
  server: ParsedConfig['server'] & { host: string };
}

export interface ConfigVariable {
  /** Dotted path in the YAML file and in `Config`. */
  path: string;
  env: string;
  description: string;
  /** Secrets may be given as `<env>_FILE` and are never echoed in error messages. */
  secret?: boolean;
  /** The default as people should read it, where it depends on the mode or is absent. */
  defaultText?: string;
}

/** Every setting, its variable and its meaning: the single source for loading, errors and the docs. */
export const configVariables: readonly ConfigVariable[] = [
  { path: 'server.host', env: 'CLOUDPODS_HOST', description: 'Address the HTTP API listens on.',
    defaultText: '`127.0.0.1` in dev, `0.0.0.0` in serve' },
  { path: 'server.port', env: 'CLOUDPODS_PORT', description: 'Port of the HTTP API (0: any free port).' },
  { path: 'server.bodyLimitBytes', env: 'CLOUDPODS_BODY_LIMIT_BYTES',
    description: 'Largest request body accepted; larger ones get 413.' },
  { path: 'server.shutdownTimeoutMs', env: 'CLOUDPODS_SHUTDOWN_TIMEOUT_MS',
    description: 'How long a stopping process lets in-flight requests finish.' },
  { path: 'database.url', env: 'DATABASE_URL', secret: true,
    description: 'PostgreSQL connection URL. Required by `serve`; `dev` runs an embedded PostgreSQL when unset.',
    defaultText: 'none (dev: embedded)' },
  { path: 'database.poolMax', env: 'CLOUDPODS_DB_POOL_MAX', description: 'Connections per process.' },
  { path: 'database.statementTimeoutMs', env: 'CLOUDPODS_DB_STATEMENT_TIMEOUT_MS',
    description: 'Statements running longer are cancelled (0: no limit).' },
  { path: 'log.level', env: 'LOG_LEVEL', description: `Log level: ${logLevels.join(', ')}.` },
  { path: 'dev.dataDir', env: 'CLOUDPODS_DATA_DIR',
    description: '`dev` only: where the embedded PostgreSQL and `dev.json` live.' },
  { path: 'proxmox.url', env: 'CLOUDPODS_PROXMOX_URL',
    description: 'Proxmox VE API, `https://host:8006`; with the SSH transport, the node to connect to by default.' },
  { path: 'proxmox.token.id', env: 'CLOUDPODS_PROXMOX_TOKEN_ID', description: 'API token id, `USER@REALM!TOKENID`.' },
  { path: 'proxmox.token.secret', env: 'CLOUDPODS_PROXMOX_TOKEN_SECRET', secret: true, description: 'API token secret.' },
  { path: 'proxmox.transport', env: 'CLOUDPODS_PROXMOX_TRANSPORT',
    description: '`https` (straight to the API) or `ssh` (the same API through an SSH tunnel to 127.0.0.1:8006).' },
  { path: 'proxmox.tls.caFile', env: 'CLOUDPODS_PROXMOX_TLS_CA_FILE',
    description: 'PEM file of the CA to trust for the API certificate (the cluster\'s `pve-root-ca.pem`).' },
  { path: 'proxmox.tls.fingerprint', env: 'CLOUDPODS_PROXMOX_TLS_FINGERPRINT',
    description: 'Pinned SHA-256 fingerprint of the API certificate (`AB:CD:...`); also checked inside the SSH tunnel.' },
  { path: 'proxmox.ssh.host', env: 'CLOUDPODS_PROXMOX_SSH_HOST', defaultText: 'the host of `proxmox.url`',
    description: 'SSH host for nodes not listed in `proxmox.ssh.nodeHosts`.' },
  { path: 'proxmox.ssh.port', env: 'CLOUDPODS_PROXMOX_SSH_PORT', description: 'SSH port.' },
  { path: 'proxmox.ssh.user', env: 'CLOUDPODS_PROXMOX_SSH_USER', description: 'SSH user.' },
  { path: 'proxmox.ssh.privateKey', env: 'CLOUDPODS_PROXMOX_SSH_PRIVATE_KEY', secret: true,
    description: 'SSH private key (OpenSSH or PEM); usually given as a file through the `_FILE` variable.' },
  { path: 'proxmox.ssh.hostKeyFingerprint', env: 'CLOUDPODS_PROXMOX_SSH_HOST_KEY_FINGERPRINT',
    description: 'Pinned host key fingerprint(s), `SHA256:...` as `ssh-keygen -lf` prints them, comma-separated; ' +
      'any other host key is refused. Required for SSH.' },
  { path: 'proxmox.ssh.nodeHosts', env: 'CLOUDPODS_PROXMOX_SSH_NODE_HOSTS',
    description: 'Per-node SSH addresses, `pve1=10.0.0.1,pve2=10.0.0.2:2222`: each node\'s work goes over its own connection.' },
  { path: 'proxmox.concurrency.perNode', env: 'CLOUDPODS_PROXMOX_PER_NODE_CONCURRENCY',
    description: 'Most concurrent API calls per node.' },
  { path: 'proxmox.concurrency.perStorage', env: 'CLOUDPODS_PROXMOX_PER_STORAGE_CONCURRENCY',
    description: 'Most concurrent calls that allocate on or free from one storage (clone, new disks, backups).' },
  { path: 'proxmox.concurrency.clonesPerNode', env: 'CLOUDPODS_PROXMOX_CLONES_PER_NODE',
    description: 'Clone tasks the pod controller runs at once on one node (Proxmox serialises storage allocation).' },
  { path: 'proxmox.vmids.min', env: 'CLOUDPODS_PROXMOX_VMID_MIN',
    description: 'Lowest VMID the pod controller allocates; keep the range free of VMs made by hand.' },
  { path: 'proxmox.vmids.max', env: 'CLOUDPODS_PROXMOX_VMID_MAX', description: 'Highest VMID the pod controller allocates.' },
  { path: 'proxmox.requestTimeoutMs', env: 'CLOUDPODS_PROXMOX_REQUEST_TIMEOUT_MS',
    description: 'A Proxmox API call without an answer after this long fails as transient.' },
  { path: 'proxmox.taskPollIntervalMs', env: 'CLOUDPODS_PROXMOX_TASK_POLL_INTERVAL_MS',
    description: 'How often a running Proxmox task\'s status is polled.' },
  { path: 'proxmox.snippets.storage', env: 'CLOUDPODS_PROXMOX_SNIPPETS_STORAGE',
    description: 'Storage (with content `snippets`) that holds cloud-init user-data.' },
  { path: 'proxmox.snippets.directory', env: 'CLOUDPODS_PROXMOX_SNIPPETS_DIR',
    description: 'That storage\'s snippets directory on the nodes, written over SFTP.' },
  { path: 'powerdns.apiUrl', env: 'CLOUDPODS_PDNS_API_URL', defaultText: 'none (dev: the embedded PowerDNS, if installed)',
    description: 'PowerDNS Authoritative HTTP API, `http://host:8081`. Unset: no DNS records are served.' },
  { path: 'powerdns.apiKey', env: 'CLOUDPODS_PDNS_API_KEY', secret: true, description: 'PowerDNS API key (`api-key`).' },
  { path: 'powerdns.serverId', env: 'CLOUDPODS_PDNS_SERVER_ID', description: 'PowerDNS server id in API paths.' },
  { path: 'powerdns.dnsHost', env: 'CLOUDPODS_PDNS_DNS_HOST', defaultText: 'the host of `powerdns.apiUrl`',
    description: 'Address of the authoritative DNS port asked directly whether a record is served.' },
  { path: 'powerdns.dnsPort', env: 'CLOUDPODS_PDNS_DNS_PORT', description: 'Port of that DNS server (UDP).' },
  { path: 'powerdns.serializeWrites', env: 'CLOUDPODS_PDNS_SERIALIZE_WRITES',
    description: 'One write in flight per PowerDNS server, not only per zone: needed with the sqlite3 backend, ' +
      'which answers concurrent writes with 500.' },
  { path: 'powerdns.ownerId', env: 'CLOUDPODS_PDNS_OWNER_ID',
    description: 'This installation\'s name in the ownership marker on its records; unique per installation sharing zones.' },
  { path: 'powerdns.requestTimeoutMs', env: 'CLOUDPODS_PDNS_REQUEST_TIMEOUT_MS',
    description: 'A PowerDNS API call without an answer after this long fails as transient.' },
  { path: 'hooks.scriptsDirectory', env: 'CLOUDPODS_HOOK_SCRIPTS_DIR', defaultText: 'none: script hooks are refused',
    description: 'Directory of the scripts that script hooks may run: a hook names one by file name, and only ' +
      'executable files directly in it (or links to files inside it) are run.' },
  { path: 'kube.enabled', env: 'CLOUDPODS_KUBE_ENABLED',
    description: 'Run the Kubernetes front door (CloudPod resources) when a kubeconfig or in-cluster service account is present.' },
  { path: 'kube.kubeconfig', env: 'CLOUDPODS_KUBECONFIG', defaultText: 'none: the in-cluster service account, if any',
    description: 'kubeconfig file of the cluster whose CloudPod resources this installation serves.' },
  { path: 'kube.leaseNamespace', env: 'CLOUDPODS_KUBE_LEASE_NAMESPACE', defaultText: 'the pod\'s namespace (in cluster), else `default`',
    description: 'Namespace of the leader-election Lease.' },
  { path: 'kube.leaseName', env: 'CLOUDPODS_KUBE_LEASE_NAME', description: 'Name of the Lease electing the one replica that runs the bridge.' },
  { path: 'kube.leaseDurationSeconds', env: 'CLOUDPODS_KUBE_LEASE_DURATION_SECONDS',
    description: 'How long a lease holds without renewal; another replica takes over after it.' },
  { path: 'kube.renewDeadlineSeconds', env: 'CLOUDPODS_KUBE_RENEW_DEADLINE_SECONDS',
    description: 'A leader that cannot renew for this long stops bridging.' },
  { path: 'kube.retryPeriodMs', env: 'CLOUDPODS_KUBE_RETRY_PERIOD_MS', description: 'How often the lease is renewed or tried.' },
  { path: 'kube.resyncIntervalMs', env: 'CLOUDPODS_KUBE_RESYNC_INTERVAL_MS',
    description: 'How often every resource is synced again, besides the syncs its changes, its row\'s changes and its namespace\'s labels trigger: refused orders retried, anything missed caught up.' },
  { path: 'kube.watchInactivitySeconds', env: 'CLOUDPODS_KUBE_WATCH_INACTIVITY_SECONDS',
    description: 'A watch silent this long (no event, no bookmark) is cut and re-opened.' },
];

export const configFileVariable = 'CLOUDPODS_CONFIG';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  mode: Mode;
  env?: NodeJS.ProcessEnv;
  /** Overrides from command-line flags, by dotted path; they win over everything else. */
  overrides?: Record<string, unknown>;
}

/** Loads, validates and returns the configuration, or throws one ConfigError listing every problem. */
export function loadConfig({ mode, env = process.env, overrides = {} }: LoadConfigOptions): Config {
  const problems: string[] = [];
  const raw = readConfigFile(env, problems);

  for (const variable of configVariables) {
    const value = readVariable(variable, env, problems);
    if (value !== undefined) setPath(raw, variable.path, value);
  }
  for (const [path, value] of Object.entries(overrides)) {
    if (value !== undefined) setPath(raw, path, value);
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(describeIssue(issue, raw));
  }
  if (mode === 'serve' && getPath(raw, 'database.url') === undefined) {
    problems.push(`database.url (DATABASE_URL): required by \`cloudpods serve\``);
  }
  if (parsed.success && parsed.data.proxmox.vmids.min > parsed.data.proxmox.vmids.max) {
    problems.push('proxmox.vmids.max (CLOUDPODS_PROXMOX_VMID_MAX): must not be below proxmox.vmids.min');
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const data = parsed.data;
  return {
    ...data,
    mode,
    server: { ...data.server, host: data.server.host ?? (mode === 'dev' ? '127.0.0.1' : '0.0.0.0') },
  };
}

function readConfigFile(env: NodeJS.ProcessEnv, problems: string[]): Record<string, unknown> {
  const file = env[configFileVariable];
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${configFileVariable}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    return {};
  }
  try {
    const document = parseYaml(text) ?? {};
    if (typeof document !== 'object' || Array.isArray(document)) {
      problems.push(`${configFileVariable}: ${file} must hold a mapping of settings`);
      return {};
    }
    return document as Record<string, unknown>;
  } catch (error) {
    problems.push(`${configFileVariable}: ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    return {};
  }
}

function readVariable(variable: ConfigVariable, env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const direct = env[variable.env];
  if (direct !== undefined && direct !== '') return direct;
  if (!variable.secret) return undefined;
  const file = env[`${variable.env}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    problems.push(`${variable.path} (${variable.env}_FILE): cannot read ${file}: ` +
      `${(error as NodeJS.ErrnoException).code ?? error}`);
    return undefined;
  }
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  if (issue.code === 'unrecognized_keys') {
    const at = issue.path.length ? `${issue.path.join('.')}.` : '';
    return `${issue.keys.map((k) => at + k).join(', ')}: unknown setting in ${configFileVariable}`;
  }
  const path = issue.path.join('.');
  const variable = configVariables.find((v) => v.path === path);
  const name = variable ? `${path} (${variable.env})` : path;
  const value = getPath(raw, path);
  const shown = value === undefined || variable?.secret ? '' : `, got ${JSON.stringify(value)}`;
  return `${name}: ${issue.message}${shown}`;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function getPath(source: Record<string, unknown>, path: string): unknown {
  let node: unknown = source;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
