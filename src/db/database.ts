import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

// bigint (int8) columns hold ids and counters that stay far below 2^53; numeric columns (prices) stay strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  url: string;
  /** Largest number of pooled connections. */
  poolMax?: number;
  /** Statements running longer are cancelled by PostgreSQL, so no request holds a lock forever. */
  statementTimeoutMs?: number;
  /** Sessions idle inside a transaction longer are ended, protecting the xmin horizon the job queue relies on. */
  idleInTransactionTimeoutMs?: number;
  /** How long to wait for a new connection before failing the query. */
  connectTimeoutMs?: number;
  /** Told about connection errors of idle clients (a restarted server, a cut network). */
  onPoolError?: (error: Error) => void;
  applicationName?: string;
}

/** Opens a pooled kysely instance; `destroy()` closes the pool. */
export function openDatabase({
  url,
  poolMax = 10,
  statementTimeoutMs = 30_000,
  idleInTransactionTimeoutMs = 60_000,
  connectTimeoutMs = 5_000,
  onPoolError = () => {},
  applicationName = 'cloudpods',
}: DatabaseOptions): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: applicationName,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
  });
  guardPoolClients(pool, onPoolError);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * A pooled client whose server goes away emits 'error': the pool listens while the client is idle, but nobody does
 * while it is checked out (inside a transaction, between two queries), and an unheard 'error' ends the process.
 * Every client gets a listener of its own; the query in flight still rejects to its caller, and the pool drops the
 * dead client when it is released.
 */
export function guardPoolClients(pool: pg.Pool, onError: (error: Error) => void): void {
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
}
