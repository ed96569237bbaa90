import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/database.ts';
import { NotificationListener, notify } from '../db/listener.ts';
import { actorLabel, recordAudit, type Actor } from '../observability/audit.ts';
import type { Logger } from '../observability/logger.ts';
import { definitionByName, fullName, settingDefinitions, type SettingDefinition } from './registry.ts';
import { deleteStoredSetting, loadStoredSettings, lockStoredSettings, upsertStoredSetting,
  type StoredSetting } from './store.ts';
import { displayValue, validateSettingValue } from './validate.ts';

export const settingsChannel = 'cloudpods_settings';

/** A setting as the API and the admin pages show it. */
export interface EffectiveSetting {
  name: string;
  namespace: string;
  key: string;
  type: SettingDefinition['type'];
  description: string;
  value: unknown;
  default: unknown;
  is_default: boolean;
  constraints: Record<string, unknown>;
  updated_by: string | null;
  updated_at: Date | null;
}

/** One or more keys failed validation; nothing was written. */
export class SettingsValidationError extends Error {
  readonly problems: Array<{ name: string; message: string }>;
  constructor(problems: Array<{ name: string; message: string }>) {
    super(problems.map((p) => `${p.name}: ${p.message}`).join('; '));
    this.name = 'SettingsValidationError';
    this.problems = problems;
  }
}

export interface SettingsServiceOptions {
  db: Db;
  /** URL for the dedicated LISTEN connection (the pool's connections cannot hold a LISTEN). */
  databaseUrl: string;
  logger: Logger;
  registry?: Registry;
}

type Snapshot = Map<string, StoredSetting>;

/**
 * Typed settings with defaults (spec 1, SystemSettingsService). Each process caches the table and trusts the
 * cache only while its LISTEN connection is up: a write anywhere notifies every process, which drops its cache;
 * a lost connection drops it too, so reads go to the database until the listener is back.
 */
export class SystemSettingsService {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #listener: NotificationListener;
  #cache: Snapshot | undefined;
  /** The last snapshot read, served when the database cannot be reached rather than failing every caller. */
  #lastKnown: Snapshot | undefined;
  /** Bumped on every invalidation, so a load that raced with one is not cached. */
  #epoch = 0;
  #loading: Promise<Snapshot> | undefined;
  readonly #reads: Counter<'result'> | undefined;
  readonly #listening: Gauge | undefined;

  constructor({ db, databaseUrl, logger, registry }: SettingsServiceOptions) {
    this.#db = db;
    this.#logger = logger;
    this.#listener = new NotificationListener({
      url: databaseUrl,
      channels: [settingsChannel],
      logger,
      onNotification: () => this.#invalidate(),
      onConnected: () => { this.#invalidate(); this.#listening?.set(1); },
      onDisconnected: () => { this.#invalidate(); this.#listening?.set(0); },
    });
    if (registry) {
      this.#reads = new Counter({
        name: 'cloudpods_settings_reads_total', labelNames: ['result'], registers: [registry],
        help: 'Settings reads by result: cache (hit), database (cache reloaded) or stale (database unreachable).',
      });
      this.#listening = new Gauge({
        name: 'cloudpods_settings_listener_connected', registers: [registry],
        help: '1 while the settings change listener is connected (the cache is trusted only then).',
      });
    }
  }

  /** Starts listening for changes; reads work before and without it, straight from the database. */
  async start(): Promise<void> {
    await this.#listener.start().catch((error) => {
      this.#logger.warn({ err: error }, 'settings listener could not connect yet; reads go to the database');
    });
  }

  async stop(): Promise<void> {
    await this.#listener.stop();
  }

  async getBoolean(name: string): Promise<boolean> {
    return this.#typed(name, 'boolean') as Promise<boolean>;
  }

  async getNumber(name: string): Promise<number> {
    return this.#typed(name, 'number') as Promise<number>;
  }

  async getString(name: string): Promise<string> {
    return this.#typed(name, 'string') as Promise<string>;
  }

  async getJson<T = unknown>(name: string): Promise<T> {
    return this.#typed(name, 'json') as Promise<T>;
  }

  /** Every known setting with its effective value, default and who changed it last, in registry order. */
  async list(): Promise<EffectiveSetting[]> {
    const snapshot = await this.#snapshot();
    return settingDefinitions.map((d) => describe(d, snapshot.get(fullName(d))));
  }

  async describe(name: string): Promise<EffectiveSetting | undefined> {
    const definition = definitionByName(name);
    return definition && describe(definition, (await this.#snapshot()).get(name));
  }

  /**
   * Validates and writes several settings in one transaction: all or nothing. Each change is audited with its
   * old and new value (secrets masked), and every process is notified when the transaction commits.
   * A `null` value resets the setting to its default.
   */
  async update(changes: Record<string, unknown>, actor: Actor, requestId?: string): Promise<EffectiveSetting[]> {
    const problems: Array<{ name: string; message: string }> = [];
    const accepted: Array<{ definition: SettingDefinition; value: unknown }> = [];
    for (const [name, value] of Object.entries(changes)) {
      const definition = definitionByName(name);
      if (!definition) {
        problems.push({ name, message: 'unknown setting' });
        continue;
      }
      if (value === null) {
        accepted.push({ definition, value: null });
        continue;
      }
      const checked = validateSettingValue(definition, value);
      if (checked.ok) accepted.push({ definition, value: checked.value });
      else problems.push({ name, message: checked.message });
    }
    if (problems.length > 0) throw new SettingsValidationError(problems);
    if (accepted.length === 0) return [];

    const changed: string[] = [];
    await this.#db.transaction().execute(async (trx) => {
      const names = accepted.map(({ definition }) => fullName(definition));
      const before = new Map((await lockStoredSettings(trx, names)).map((row) => [`${row.namespace}.${row.key}`, row]));
      for (const { definition, value } of accepted) {
        const name = fullName(definition);
        const old = before.has(name) ? before.get(name)!.value : definition.default;
        if (value === null) {
          if (!(await deleteStoredSetting(trx, definition.namespace, definition.key))) continue;
        } else {
          if (before.has(name) && JSON.stringify(old) === JSON.stringify(value)) continue;
          await upsertStoredSetting(trx, { namespace: definition.namespace, key: definition.key, value,
            valueType: definition.type, updatedBy: actorLabel(actor) });
        }
        changed.push(name);
        await recordAudit(trx, {
          actor, category: 'settings', action: value === null ? 'setting.reset' : 'setting.updated', requestId,
          details: { name, namespace: definition.namespace, key: definition.key,
            old: displayValue(definition, old),
            new: displayValue(definition, value === null ? definition.default : value) },
        });
      }
      await notify(trx, settingsChannel, names.join(','));
    });
    this.#invalidate();
    // Names only: values may be secrets (the audit has them, masked).
    if (changed.length > 0) {
      this.#logger.info({ event: true, settings: changed, actor: actorLabel(actor), requestId }, 'settings changed');
    }
    const snapshot = await this.#snapshot();
    return accepted.map(({ definition }) => describe(definition, snapshot.get(fullName(definition))));
  }

  async #typed(name: string, type: SettingDefinition['type']): Promise<unknown> {
    const definition = definitionByName(name);
    if (!definition) throw new Error(`unknown setting ${name}: register it in src/settings/registry.ts`);
    if (definition.type !== type) throw new Error(`setting ${name} is a ${definition.type}, not a ${type}`);
    const stored = (await this.#snapshot()).get(name);
    return stored ? stored.value : definition.default;
  }

  #invalidate(): void {
    this.#epoch++;
    this.#cache = undefined;
  }

  async #snapshot(): Promise<Snapshot> {
    if (this.#cache) {
      this.#reads?.inc({ result: 'cache' });
      return this.#cache;
    }
    this.#loading ??= this.#load().finally(() => { this.#loading = undefined; });
    return this.#loading;
  }

  async #load(): Promise<Snapshot> {
    const epoch = this.#epoch;
    let rows: StoredSetting[];
    try {
      rows = await loadStoredSettings(this.#db);
    } catch (error) {
      if (!this.#lastKnown) throw error;
      this.#reads?.inc({ result: 'stale' });
      this.#logger.warn({ err: error }, 'settings unreadable; serving the last values read');
      return this.#lastKnown;
    }
    this.#reads?.inc({ result: 'database' });
    const snapshot: Snapshot = new Map(rows.map((row) => [`${row.namespace}.${row.key}`, row]));
    this.#lastKnown = snapshot;
    // Cache only when no change notice arrived while loading and a notice would reach us.
    if (epoch === this.#epoch && this.#listener.connected) this.#cache = snapshot;
    return snapshot;
  }
}

function describe(definition: SettingDefinition, stored: StoredSetting | undefined): EffectiveSetting {
  const { namespace, key, type, description } = definition;
  const constraints: Record<string, unknown> = {};
  if (definition.type === 'number') Object.assign(constraints, { min: definition.min, max: definition.max,
    integer: definition.integer, unit: definition.unit });
  if (definition.type === 'string') {
    Object.assign(constraints, { max_length: definition.maxLength });
    if (definition.allowed) constraints.allowed = definition.allowed;
    if (definition.pattern) constraints.pattern = definition.pattern.regex.source;
  }
  return {
    name: fullName(definition), namespace, key, type, description,
    value: displayValue(definition, stored ? stored.value : definition.default),
    default: displayValue(definition, definition.default),
    is_default: !stored,
    constraints,
    updated_by: stored?.updated_by ?? null,
    updated_at: stored?.updated_at ?? null,
  };
}
