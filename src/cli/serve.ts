import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest, pendingMigrations, shippedMigrationNames } from '../db/migrate.ts';
import { createProcessLogging } from '../observability/process-logging.ts';
import { startSystem } from '../system.ts';
import { untilStopSignal } from './common.ts';

export const serveUsage = `cloudpods serve [--migrate]
  Production entry: configuration from the environment or CLOUDPODS_CONFIG; DATABASE_URL is required.
  --migrate   apply pending migrations before starting (otherwise a schema behind this build is an error)`;

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { migrate: { type: 'boolean', default: false } } });
  const config = loadConfig({ mode: 'serve' });
  const { logger, events } = createProcessLogging(config.log.level);
  const databaseUrl = config.database.url!;

  const db = openDatabase({ url: databaseUrl, poolMax: 2 });
  try {
    if (values.migrate) {
      const report = await migrateToLatest(db);
      logger.info({ event: true, applied: report.applied }, 'migrations applied');
    } else {
      const pending = await pendingMigrations(db, await shippedMigrationNames());
      if (pending.length > 0) {
        logger.fatal({ pending }, 'the database schema is behind this build: run `cloudpods migrate` or pass --migrate');
        return 1;
      }
    }
  } finally {
    await db.destroy();
  }

  const system = await startSystem({ config, logger, databaseUrl, events });
  const signal = await untilStopSignal();
  logger.info({ event: true, signal }, 'stopping');
  await system.stop();
  return 0;
}
