import { isDeepStrictEqual } from 'node:util';
import { fieldProblems } from '../api/validation.ts';
import type { Condition, HookEvent, HookType } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { hookConfigSchema, lastDeliveryCondition, type HookConfig } from '../hooks/config.ts';
import { changeHook, createHook, deleteHook, type HookChange, type HookScope } from '../hooks/orders.ts';
import { findHookOfResource, type Hook } from '../hooks/store.ts';
import { removeCondition, setCondition } from '../runtime/conditions.ts';
import { actor, doorOf, type BridgeDeps } from './deps.ts';
import { ensureFinalizer, holdsFinalizer, removeFinalizer } from './resource-writes.ts';
import { refusalReason, refuse, reportStatus, type ResourceStatus } from './status-report.ts';

export interface CloudPodHookSpec {
  event: HookEvent;
  type: HookType;
  target: string;
  /** Default true (the CRD defaults it too). */
  active?: boolean;
  config?: unknown;
}

/** What the row must hold for this spec (config already checked). */
interface WantedHook {
  event: HookEvent;
  type: HookType;
  target: string;
  is_active: boolean;
  config: HookConfig;
}

/** The scope of orders on an existing row: its own tenant, audited as the bridge. */
const scopeOf = (hook: Hook): HookScope => ({ tenantId: hook.tenant_id, actor });

/** The fields the row must change to match the spec; empty when none (event and type are passed on to be refused). */
export function hookChangeOf(hook: Pick<Hook, 'event' | 'type' | 'target' | 'is_active' | 'config'>, wanted: WantedHook)
  : HookChange {
  const change: HookChange = {};
  if (wanted.event !== hook.event) change.event = wanted.event;
  if (wanted.type !== hook.type) change.type = wanted.type;
  if (wanted.target !== hook.target) change.target = wanted.target;
  if (wanted.is_active !== hook.is_active) change.is_active = wanted.is_active;
  if (!isDeepStrictEqual(wanted.config, hook.config)) change.config = wanted.config;
  return change;
}

/**
 * The status subresource for a hook's row: Ready=True `Stored` (the row is the whole of a hook; delivery reads it),
 * and the row's `LastDelivery` condition, the outcome of the latest delivery attempt, as delivery wrote it. The
 * resource's generation counts as observed when the row holds exactly its spec.
 */
export function hookStatusOf(hook: Hook, resource: { metadata: { generation?: number }; spec: CloudPodHookSpec;
  status?: ResourceStatus }, now = new Date()): ResourceStatus {
  const generation = resource.metadata.generation ?? 1;
  const config = hookConfigSchema.safeParse(resource.spec.config ?? {});
  const converged = config.success && Object.keys(hookChangeOf(hook, wantedOf(resource.spec, config.data))).length === 0;
  const observedGeneration = converged ? generation : resource.status?.observedGeneration;
  const message = hook.is_active ? `stored; ${hook.event} events are delivered to it`
    : 'stored; inactive (spec.active is false): nothing is delivered';
  let conditions: Condition[] = setCondition(resource.status?.conditions ?? [],
    { type: 'Ready', status: 'True', reason: 'Stored', message }, observedGeneration ?? generation, now);
  const delivery = hook.conditions.find((c) => c.type === lastDeliveryCondition);
  if (delivery) {
    // Copied as delivery wrote it, but for the row's generation, which is not the resource's.
    const { observedGeneration: _rowGeneration, ...copy } = delivery;
    conditions = [...removeCondition(conditions, lastDeliveryCondition), copy];
  } else {
    conditions = removeCondition(conditions, lastDeliveryCondition);
  }
  return { phase: hook.is_active ? 'active' : 'pending', ...(observedGeneration === undefined ? {} : { observedGeneration }),
    conditions, hookId: hook.id };
}

const wantedOf = (spec: CloudPodHookSpec, config: HookConfig): WantedHook =>
  ({ event: spec.event, type: spec.type, target: spec.target, is_active: spec.active ?? true, config });

/**
 * CloudPodHook: a kube-managed cloud_pod_hooks row of the namespace's tenant, written through the hook orders with
 * the Kubernetes front door (the same checks as the REST API: target form, name unique per tenant). The spec's
 * config is checked first: a violation is Ready=False `SpecInvalid` naming the field, and nothing is written.
 * Deleting the resource deletes the row, then releases the finalizer.
 */
export async function syncCloudPodHook(deps: BridgeDeps, resource: any): Promise<void> {
  const { client, db, events } = deps;
  if (await ensureFinalizer(client, resource)) return;
  let hook = await findHookOfResource(db, resource.metadata.uid);
  if (resource.metadata.deletionTimestamp) {
    if (!holdsFinalizer(resource)) return;
    if (hook) await deleteHook(db, scopeOf(hook), hook.id, doorOf(resource));
    await removeFinalizer(client, resource);
    return;
  }
  const rowStatus = (row: Hook | undefined) => (row ? (fresh: any) => hookStatusOf(row, fresh) : undefined);
  const spec: CloudPodHookSpec = resource.spec;
  const config = hookConfigSchema.safeParse(spec.config ?? {});
  if (!config.success) {
    const problems = fieldProblems(config.error, 'spec.config').map((p) => `${p.name}: ${p.messages.join('; ')}`);
    await refuse(deps, resource, 'SpecInvalid', problems.join(', '), rowStatus(hook));
    return;
  }
  const wanted = wantedOf(spec, config.data);
  try {
    if (!hook) {
      const owner = await deps.tenantOf(resource.metadata.namespace);
      if ('unknown' in owner) {
        await refuse(deps, resource, 'TenantUnknown', owner.unknown);
        return;
      }
      hook = (await createHook(deps.orders, { tenantId: owner.tenant.id, name: resource.metadata.name, ...wanted }, actor,
        undefined, doorOf(resource))).hook;
      await events.record(resource, 'Normal', 'Stored', 'Create', `hook stored for tenant ${owner.tenant.slug}`);
    } else {
      const change = hookChangeOf(hook, wanted);
      if (Object.keys(change).length > 0) {
        hook = await changeHook(deps.orders, scopeOf(hook), hook.id, change, doorOf(resource));
        await events.record(resource, 'Normal', 'Updated', 'Update', `changed ${Object.keys(change).join(', ')}`);
      }
    }
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const reason = error.code === 'validation_error' ? 'SpecInvalid' : refusalReason(error.code, error.message);
    await refuse(deps, resource, reason, error.message, rowStatus(hook));
    return;
  }
  const current = hook;
  await reportStatus(deps, resource, (fresh) => hookStatusOf(current, fresh));
}
