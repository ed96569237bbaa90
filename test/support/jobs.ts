import { definitionByName } from '../../src/settings/registry.ts';
import type { NumberSettings } from '../../src/jobs/policy.ts';
import { JobEngine } from '../../src/jobs/engine.ts';
import type { TaskDefinition } from '../../src/jobs/types.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import type { TestDatabase } from './postgres.ts';

/** Registry defaults with overrides, for engines that need no settings table (changing values mid-test works). */
export function fakeSettings(overrides: Record<string, number> = {}): NumberSettings & { values: Record<string, number> } {
  const values = { ...overrides };
  return {
    values,
    async getNumber(name: string) {
      if (name in values) return values[name]!;
      const definition = definitionByName(name);
      if (!definition || definition.type !== 'number') throw new Error(`unknown number setting ${name}`);
      return definition.default;
    },
  };
}

/** Settings that make failures and rescues quick enough for tests. */
export const quickSettings = {
  'jobs.initial_retry_delay_seconds': 1,
  'jobs.retry_jitter_percent': 0,
  'jobs.poll_interval_ms': 200,
  'jobs.heartbeat_interval_seconds': 1,
  'jobs.worker_timeout_seconds': 3,
  'jobs.shutdown_timeout_seconds': 5,
};

export interface EngineSpec {
  name?: string;
  tasks?: Array<Omit<TaskDefinition, 'queue'> & { queue?: string }>;
  settings?: NumberSettings;
  concurrency?: number;
  logger?: Logger;
}

/** An engine against the suite's database, with tasks on queue `cloudpods` unless they say otherwise. */
export function anEngine(database: TestDatabase, spec: EngineSpec = {}): JobEngine {
  const engine = new JobEngine({
    db: database.db, databaseUrl: database.url, name: spec.name,
    logger: spec.logger ?? createLogger({ level: 'silent' }),
    settings: spec.settings ?? fakeSettings(quickSettings),
  });
  for (const task of spec.tasks ?? []) engine.defineTask({ queue: 'cloudpods', ...task });
  if (spec.concurrency) engine.defineQueue('cloudpods', { concurrency: spec.concurrency });
  return engine;
}
