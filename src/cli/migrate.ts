import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest, migrationStatus, type MigrationStatus } from '../db/migrate.ts';
import { SystemEventSink } from '../observability/event-sink.ts';
import { createLogger } from '../observability/logger.ts';
import { commandDatabaseUrl, print } from './common.ts';

export const migrateUsage = `cloudpods migrate [--status]
  Applies pending migrations (under an advisory lock, so replicas may run it at once) and prints the status.
  --status   only print which migrations are applied`;

export async function migrateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { status: { type: 'boolean', default: false } }, strict: true });
  const config = loadConfig({ mode: 'dev' });
  const db = openDatabase({ url: commandDatabaseUrl(config), poolMax: 2 });
  try {
    if (values.status) {
      printStatus(await migrationStatus(db));
      return 0;
    }
    const report = await migrateToLatest(db);
    printStatus(report.status);
    print(report.applied.length === 0 ? 'schema is current: nothing to apply'
      : `applied ${report.applied.length} migration(s): ${report.applied.join(', ')}`);
    if (report.applied.length > 0) await storeMigrationsApplied(db, report.applied);
    return 0;
  } finally {
    await db.destroy();
  }
}

/** The system event `serve --migrate` logs, for installations that migrate with this command (the chart's Job). */
async function storeMigrationsApplied(db: ReturnType<typeof openDatabase>, applied: string[]): Promise<void> {
  const events = new SystemEventSink();
  events.attach(db);
  // The command's output is the text above; the log line only feeds the sink.
  createLogger({ level: 'info', destination: { write() {} }, eventSink: events })
    .info({ event: true, applied }, 'migrations applied');
  await events.detach();
}

function printStatus(status: MigrationStatus[]): void {
  for (const m of status) {
    print(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  ${m.executedAt.toISOString()}` : ''}`);
  }
}
