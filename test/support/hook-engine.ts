import { Writable } from 'node:stream';
import type { HookEvent, HookRow, NewHook } from '../../src/db/schema.ts';
import { podKind } from '../../src/pods/kind.ts';
import { defineHookDelivery } from '../../src/hooks/execute.ts';
import { lastDeliveryCondition, type HookConfig } from '../../src/hooks/config.ts';
import { publishLifecycleEvent } from '../../src/hooks/events.ts';
import { defineLifecycleEvents } from '../../src/hooks/fan-out.ts';
import { JobEngine } from '../../src/jobs/engine.ts';
import { systemActor } from '../../src/observability/audit.ts';
import { SystemEventSink } from '../../src/observability/event-sink.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { SystemSettingsService } from '../../src/settings/service.ts';
import type { TestDatabase } from './postgres.ts';

/**
 * The lifecycle fan-out and hook delivery on a job engine of their own against the suite's database, with real
 * settings (changed as an admin would) and every log line kept for assertions.
 */
export interface HookEngine {
  engine: JobEngine;
  settings: SystemSettingsService;
  logLines: string[];
  /** Stores the engine's events in the suite's system_events, as a running system does. */
  events: SystemEventSink;
  /** Publishes a lifecycle event as the pod controller does, in a transaction of its own. */
  publish(event: { event: HookEvent; tenantId: string; podId?: string; data?: Record<string, unknown> }): Promise<string>;
  setSettings(values: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

export interface HookEngineOptions {
  scriptsDirectory?: string;
  ca?: string;
  /** Settings in force before the engine starts. */
  settings?: Record<string, unknown>;
}

const testActor = systemActor('test');

/** Retries within a second or two, and a poll that finds retries promptly. */
export const quickHookSettings = {
  'cloudpods.webhooks.initial_retry_delay_seconds': 1,
  'jobs.retry_jitter_percent': 0,
  'jobs.poll_interval_ms': 200,
};

export async function startHookEngine(database: TestDatabase, options: HookEngineOptions = {}): Promise<HookEngine> {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const events = new SystemEventSink();
  const logger = createLogger({ level: 'info', service: 'hooks-test', destination, eventSink: events });
  const settings = new SystemSettingsService({ db: database.db, databaseUrl: database.url, logger });
  events.attach(database.db, undefined, settings);
  await settings.start();
  await settings.update({ ...quickHookSettings, ...options.settings }, testActor);
  const engine = new JobEngine({ db: database.db, databaseUrl: database.url, logger, settings });
  defineLifecycleEvents(engine, database.db);
  defineHookDelivery(engine, { db: database.db, settings, logger, scriptsDirectory: options.scriptsDirectory,
    wakePod: (trx, podId) => podKind.enqueue(engine, trx, podId), ...(options.ca ? { ca: options.ca } : {}) });
  await engine.start();
  let pods = 0;
  return {
    engine, settings, logLines, events,
    async publish({ event, tenantId, podId, data = { name: 'web-1' } }) {
      const id = podId ?? `00000000-0000-4000-8000-${String(++pods).padStart(12, '0')}`;
      await database.db.transaction().execute((trx) => publishLifecycleEvent(trx, engine, { event, podId: id, tenantId,
        data }));
      return id;
    },
    async setSettings(values) {
      await settings.update(values, testActor);
    },
    async stop() {
      await engine.stop();
      await settings.stop();
      await events.detach();
    },
  };
}

/** A hook row as the API would store it, with its database-made signing secret. */
export async function aHook(database: TestDatabase,
  fields: Pick<NewHook, 'tenant_id' | 'target'> & Omit<Partial<NewHook>, 'config'> & { config?: HookConfig })
  : Promise<HookRow> {
  const { config, ...columns } = fields;
  return database.db.insertInto('cloud_pod_hooks').values({ name: `hook-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
    event: 'pod.post_create', type: 'http', ...columns, ...(config ? { config: JSON.stringify(config) } : {}) })
    .returningAll().executeTakeFirstOrThrow();
}

/** The hook's LastDelivery condition as its row holds it. */
export async function lastDelivery(database: TestDatabase, hookId: string) {
  const row = await database.db.selectFrom('cloud_pod_hooks').select('conditions').where('id', '=', hookId)
    .executeTakeFirst();
  return row?.conditions.find((c) => c.type === lastDeliveryCondition);
}
