import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Kysely } from 'kysely';
import type { Database, HookEvent, HookType } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { assertOwnedBy, ownershipColumns, type FrontDoor, type OrderScope } from '../front-door.ts';
import { recordAudit } from '../observability/audit.ts';
import { blockingProblem, unmaskedConfig, type HookConfig } from './config.ts';
import { resolveScript } from './script-runner.ts';
import { deleteHookRow, hookNameTaken, insertHook, lockHook, lockTenantHookNames, setSigningSecret, updateHookSpec,
  type Hook } from './store.ts';

/**
 * The writes of the hooks' front doors (the REST API and the Kubernetes bridge): each checks, changes the row and
 * audits (category `hook`) in one transaction. A hook changes only through the front door that created it. There is
 * no hook controller: the row is the whole of a hook, and delivery reads it when an event comes.
 */

/** What creating or retargeting a hook needs besides the database. */
export interface HookOrderDeps {
  db: Kysely<Database>;
  /** `hooks.scriptsDirectory`: script hooks may name only executables there; none configured, no script hooks. */
  scriptsDirectory?: string | undefined;
}

export interface NewHookOrder {
  tenantId: string;
  name: string;
  event: HookEvent;
  type: HookType;
  target: string;
  /** Default true. */
  is_active?: boolean | undefined;
  config?: HookConfig | undefined;
}

/** A change to a hook; event and type may be named only with the value they have (they are immutable). */
export interface HookChange {
  name?: string | undefined;
  target?: string | undefined;
  is_active?: boolean | undefined;
  config?: HookConfig | undefined;
  event?: HookEvent | undefined;
  type?: HookType | undefined;
}

const scriptIdentifier = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const maxTargetLength = 2048;

/**
 * What is wrong with a hook's target for its type (empty when nothing): the table's CHECK, and for http an
 * absolute http(s) URL that `new URL` accepts, without credentials (they belong in config.headers).
 */
export function targetProblems(type: HookType, target: string): string[] {
  if (type === 'script') {
    return scriptIdentifier.test(target) ? []
      : ['expected an allow-listed script identifier: a letter or digit, then letters, digits, ".", "_" or "-" (at most 128)'];
  }
  if (target.length > maxTargetLength) return [`at most ${maxTargetLength} characters`];
  if (!/^https?:\/\/\S+$/.test(target)) return ['expected an http:// or https:// URL without spaces'];
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return ['expected a valid URL'];
  }
  if (url.username || url.password) return ['must not carry credentials: send them in config.headers'];
  return [];
}

const invalid = (field: string, message: string) => new AppError(400, 'validation_error', `${field}: ${message}`,
  { fields: [{ name: field, messages: [message] }] }, 'SpecInvalid');

/**
 * A script hook must name a script this installation can run (the check delivery makes, src/hooks/script-runner.ts),
 * or every delivery would fail: refused on `type` when no scripts directory is configured, else on `target`.
 */
async function assertScriptRuns(scriptsDirectory: string | undefined, target: string): Promise<void> {
  const script = await resolveScript(scriptsDirectory, target);
  if (!script.ok) throw invalid(scriptsDirectory ? 'target' : 'type', script.reason);
}

/** A new Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64 (the same form the database makes). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

async function assertNameFree(trx: Kysely<Database>, tenantId: string, name: string, exceptId?: string): Promise<void> {
  if (await hookNameTaken(trx, tenantId, name, exceptId)) {
    throw new AppError(409, 'conflict', `the tenant already has a hook named ${name}`,
      { fields: [{ name: 'name', messages: ['a hook with this name exists'] }] }, 'NameConflict');
  }
}

/** The hook, locked, when the caller may see it and `door` may write it (`verb`: what the refusal says to do elsewhere). */
/** The hook, locked, for a write through `door` (`any`: a write that is no spec, open to every front door). */
async function lockOwned(trx: Kysely<Database>, scope: OrderScope, id: string, door: FrontDoor | 'any', verb: string): Promise<Hook> {
  const hook = await lockHook(trx, id);
  if (!hook || (scope.tenantId !== null && hook.tenant_id !== scope.tenantId)) {
    throw new AppError(404, 'not_found', 'hook not found', undefined, 'HookNotFound');
  }
  if (door !== 'any') assertOwnedBy(hook, door, `hook ${hook.name}`, verb);
  return hook;
}

/** Creates a hook; the answer carries its signing secret, which nothing shows again. */
export async function createHook({ db, scriptsDirectory }: HookOrderDeps, scope: OrderScope, order: NewHookOrder)
  : Promise<{ hook: Hook; signingSecret: string }> {
  const problems = targetProblems(order.type, order.target);
  if (problems.length > 0) throw invalid('target', problems[0]!);
  const blocking = blockingProblem(order.event, order.config);
  if (blocking) throw invalid('config.blocking', blocking);
  if (order.type === 'script') await assertScriptRuns(scriptsDirectory, order.target);
  return db.transaction().execute(async (trx) => {
    if (!(await lockTenantHookNames(trx, order.tenantId))) {
      throw new AppError(404, 'not_found', 'tenant not found', undefined, 'TenantUnknown');
    }
    await assertNameFree(trx, order.tenantId, order.name);
    const created = await insertHook(trx, {
      tenant_id: order.tenantId, name: order.name, event: order.event, type: order.type, target: order.target,
      is_active: order.is_active ?? true, config: JSON.stringify(order.config ?? {}), ...ownershipColumns(scope.door),
    });
    await recordAudit(trx, { actor: scope.actor, category: 'hook', action: 'hook.created', tenantId: order.tenantId,
      requestId: scope.requestId,
      details: { hook_id: created.hook.id, name: order.name, event: order.event, type: order.type, target: order.target,
        is_active: created.hook.is_active, config_keys: Object.keys(order.config ?? {}) } });
    return created;
  });
}

/**
 * Changes a hook's name, target, activity or config; naming what it already is changes nothing. Event and type are
 * immutable (a hook for another event is another hook): naming another value is 400 on that field.
 */
export async function changeHook({ db, scriptsDirectory }: HookOrderDeps, scope: OrderScope, id: string,
  change: HookChange): Promise<Hook> {
  return db.transaction().execute(async (trx) => {
    const hook = await lockOwned(trx, scope, id, scope.door, 'change');
    for (const field of ['event', 'type'] as const) {
      if (change[field] !== undefined && change[field] !== hook[field]) {
        throw invalid(field, `cannot change (it is ${hook[field]}): create another hook instead`);
      }
    }
    let config = hook.config;
    if (change.config !== undefined) {
      const restored = unmaskedConfig(change.config, hook.config as HookConfig);
      if (restored.unknown.length > 0) throw invalid(restored.unknown[0]!, 'no stored value to keep: send the value itself');
      config = restored.config;
      const blocking = blockingProblem(hook.event, config as HookConfig);
      if (blocking) throw invalid('config.blocking', blocking);
    }
    const next = {
      name: change.name ?? hook.name,
      target: change.target ?? hook.target,
      is_active: change.is_active ?? hook.is_active,
      config,
    };
    if (change.target !== undefined) {
      const problems = targetProblems(hook.type, next.target);
      if (problems.length > 0) throw invalid('target', problems[0]!);
      if (hook.type === 'script' && next.target !== hook.target) await assertScriptRuns(scriptsDirectory, next.target);
    }
    const changed = (['name', 'target', 'is_active', 'config'] as const)
      .filter((field) => !isDeepStrictEqual(next[field], hook[field]));
    if (changed.length === 0) return hook;
    if (changed.includes('name')) {
      await lockTenantHookNames(trx, hook.tenant_id);
      await assertNameFree(trx, hook.tenant_id, next.name, hook.id);
    }
    const updated = await updateHookSpec(trx, id, { ...next, config: JSON.stringify(next.config) });
    // Config values may hold credentials (an Authorization header): the audit names what changed, not the values.
    const shown = changed.filter((field) => field !== 'config');
    await recordAudit(trx, { actor: scope.actor, category: 'hook', action: 'hook.updated', tenantId: hook.tenant_id,
      requestId: scope.requestId, details: { hook_id: id, name: updated.name, changed,
        ...Object.fromEntries(shown.map((field) => [field, { old: hook[field], new: next[field] }])) } });
    return updated;
  });
}

/** Deletes a hook (nothing to tear down: deliveries already queued find it gone). Returns the hook as it was. */
export async function deleteHook({ db }: HookOrderDeps, scope: OrderScope, id: string): Promise<Hook> {
  return db.transaction().execute(async (trx) => {
    const hook = await lockOwned(trx, scope, id, scope.door, 'delete');
    await deleteHookRow(trx, id);
    await recordAudit(trx, { actor: scope.actor, category: 'hook', action: 'hook.deleted', tenantId: hook.tenant_id,
      requestId: scope.requestId, details: { hook_id: id, name: hook.name, event: hook.event, type: hook.type } });
    return hook;
  });
}

/**
 * Gives the hook a new signing secret, returned once; deliveries from now on are signed with it. The secret is a
 * credential, not spec: a CloudPodHook's too is rotated here, which is how its owner learns it.
 */
export async function rotateSigningSecret({ db }: HookOrderDeps, scope: OrderScope, id: string)
  : Promise<{ hook: Hook; signingSecret: string }> {
  return db.transaction().execute(async (trx) => {
    await lockOwned(trx, scope, id, 'any', 'rotate');
    const signingSecret = newSigningSecret();
    const hook = await setSigningSecret(trx, id, signingSecret);
    await recordAudit(trx, { actor: scope.actor, category: 'hook', action: 'hook.secret_rotated', tenantId: hook.tenant_id,
      requestId: scope.requestId, details: { hook_id: id, name: hook.name } });
    return { hook, signingSecret };
  });
}
