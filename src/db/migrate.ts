import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, sql, type MigrationResult } from 'kysely';
import type { Db } from './database.ts';

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface MigrationStatus {
  name: string;
  executedAt: Date | null;
}

export interface MigrationReport {
  applied: string[];
  status: MigrationStatus[];
}

function migratorFor(db: Db): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: migrationsFolder }),
  });
}

/**
 * Applies every pending migration. Kysely runs them in one transaction holding a PostgreSQL advisory lock,
 * so replicas that start together apply each migration once and the others wait, then find nothing to do.
 */
export async function migrateToLatest(db: Db): Promise<MigrationReport> {
  const { error, results = [] } = await migratorFor(db).migrateToLatest();
  if (error) throw new MigrationError(results, error);
  return {
    applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName),
    status: await migrationStatus(db),
  };
}

export async function migrationStatus(db: Db): Promise<MigrationStatus[]> {
  const migrations = await migratorFor(db).getMigrations();
  return migrations.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}

/** Names of the migrations shipped in this build, in order. Read once: the folder does not change at run time. */
export async function shippedMigrationNames(): Promise<string[]> {
  const files = await fs.readdir(migrationsFolder);
  return files.filter((f) => /^\d{4}_.+\.ts$/.test(f)).map((f) => f.replace(/\.ts$/, '')).sort();
}

/** Migrations shipped but not yet applied; an empty list means the schema is current. */
export async function pendingMigrations(db: Db, shipped: readonly string[]): Promise<string[]> {
  const table = await sql<{ exists: boolean }>`select to_regclass('public.kysely_migration') is not null as exists`
    .execute(db);
  if (!table.rows[0]?.exists) return [...shipped];
  const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const done = new Set(applied.rows.map((r) => r.name));
  return shipped.filter((name) => !done.has(name));
}

export class MigrationError extends Error {
  readonly results: MigrationResult[];
  constructor(results: MigrationResult[], cause: unknown) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    super(`migration ${failed ?? '(before any ran)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause });
    this.name = 'MigrationError';
    this.results = results;
  }
}
