import { Hono } from 'hono';
import { sql } from 'kysely';
import { pendingMigrations } from '../../db/migrate.ts';
import type { ApiDeps, AppEnv } from '../context.ts';

type Check = { ok: true } | { ok: false; error: string };

const readinessTimeoutMs = 3_000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Liveness, readiness and metrics: unauthenticated, as probes and scrapers expect. */
export function healthRoutes({ db, metrics, shippedMigrations }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Migrations only move forward, so once this build's migrations are applied there is no need to ask again.
  let migrationsCurrent = false;

  async function checkDatabase(): Promise<Check> {
    try {
      await withTimeout(sql`select 1`.execute(db), readinessTimeoutMs, 'the database');
      return { ok: true };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  async function checkMigrations(): Promise<Check> {
    if (migrationsCurrent) return { ok: true };
    try {
      const pending = await withTimeout(pendingMigrations(db, shippedMigrations), readinessTimeoutMs, 'the database');
      migrationsCurrent = pending.length === 0;
      return migrationsCurrent ? { ok: true } : { ok: false, error: `pending migrations: ${pending.join(', ')}` };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const database = await checkDatabase();
    const migrations = database.ok ? await checkMigrations() : { ok: false as const, error: 'database unreachable' };
    const ready = database.ok && migrations.ok;
    return c.json({ status: ready ? 'ready' : 'not_ready', checks: { database, migrations } }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  return app;
}
