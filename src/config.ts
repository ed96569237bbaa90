import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

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
