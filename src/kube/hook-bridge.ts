import { isDeepStrictEqual } from 'node:util';
import { fieldProblems } from '../api/validation.ts';
import type { Condition, HookEvent, HookType } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { hookConfigSchema, lastDeliveryCondition, type HookConfig } from '../hooks/config.ts';
import { changeHook, createHook, deleteHook, type HookChange } from '../hooks/orders.ts';
import { findHookOfResource, type Hook } from '../hooks/store.ts';
import { removeCondition, setCondition } from '../runtime/conditions.ts';
import { objectRow, type BridgedKind } from './bridged-kind.ts';
import type { ResourceStatus } from './resource.ts';

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

/** The fields the row must change to match the spec; empty when none (event and type are passed on to be refused). */
function hookChangeOf(hook: Pick<Hook, 'event' | 'type' | 'target' | 'is_active' | 'config'>, wanted: WantedHook)
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
function hookStatusOf(hook: Hook, resource: { metadata: { generation?: number }; spec: CloudPodHookSpec;
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

/** The spec's config, checked as the REST API checks it: a violation is a SpecInvalid refusal naming the field. */
function checkedConfig(spec: CloudPodHookSpec): HookConfig {
  const config = hookConfigSchema.safeParse(spec.config ?? {});
  if (config.success) return config.data;
  const problems = fieldProblems(config.error, 'spec.config').map((p) => `${p.name}: ${p.messages.join('; ')}`);
  throw new AppError(400, 'validation_error', problems.join(', '), undefined, 'SpecInvalid');
}

/**
 * CloudPodHook: a kube-managed cloud_pod_hooks row of the namespace's tenant, written through the hook orders with
 * the Kubernetes front door (the same checks as the REST API: target form, name unique per tenant, config first,
 * so nothing is written when it is refused). No controller acts on a hook: deleting it deletes the row at once.
 */
export const cloudPodHooks: BridgedKind<CloudPodHookSpec, Hook> = {
  kind: 'CloudPodHook',
  plural: 'cloudpodhooks',
  ...objectRow, // its deletion is the row's removal: there is no row being deleted to wait for
  find: ({ db }, resource) => findHookOfResource(db, resource.metadata.uid),

  async create({ orders }, scope, resource, tenant) {
    const wanted = wantedOf(resource.spec, checkedConfig(resource.spec));
    const { hook } = await createHook(orders, scope, { tenantId: tenant.id, name: resource.metadata.name, ...wanted });
    return { row: hook, note: `hook stored for tenant ${tenant.slug}` };
  },

  async change({ orders }, scope, resource, hook) {
    const change = hookChangeOf(hook, wantedOf(resource.spec, checkedConfig(resource.spec)));
    if (Object.keys(change).length === 0) return { row: hook, note: null };
    return { row: await changeHook(orders, scope, hook.id, change), note: `changed ${Object.keys(change).join(', ')}` };
  },

  async delete({ orders }, scope, hook) {
    await deleteHook(orders, scope, hook.id);
    return undefined;
  },

  status: (hook, resource) => hookStatusOf(hook, resource),
  notes: { created: 'Stored', deleting: (hook) => `removing hook ${hook.name}`, deleted: () => 'the hook is deleted' },
};
