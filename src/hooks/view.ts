import type { HookDeliveryRow } from '../db/schema.ts';
import { maskedConfig, type HookConfig } from './config.ts';
import type { Hook } from './store.ts';

/**
 * A hook as the API shows it: spec (what was asked) and status (its conditions, among them `LastDelivery`, the
 * outcome of the latest delivery attempt). The signing secret is not part of a hook's view: only the answers to its
 * creation and to a rotation carry it, beside the view. Header and env values are write-only (masked).
 */
export function hookView(hook: Hook) {
  return {
    id: hook.id,
    tenant_id: hook.tenant_id,
    name: hook.name,
    managed_by: hook.managed_by,
    spec: {
      event: hook.event,
      type: hook.type,
      target: hook.target,
      is_active: hook.is_active,
      config: maskedConfig(hook.config as HookConfig),
    },
    status: {
      conditions: hook.conditions,
      generation: hook.generation,
      observed_generation: hook.observed_generation,
    },
    created_at: hook.created_at,
    updated_at: hook.updated_at,
  };
}

export type HookView = ReturnType<typeof hookView>;

/** One delivery (a row of the ledger) as the API shows it; `job_id` names the job an admin may retry. */
export function deliveryView(delivery: HookDeliveryRow) {
  return {
    id: delivery.id,
    delivery_id: delivery.delivery_id,
    event: delivery.event,
    pod_id: delivery.pod_id,
    status: delivery.status,
    attempts: delivery.attempts,
    last_error: delivery.last_error,
    blocking: delivery.blocking,
    job_id: delivery.job_id,
    created_at: delivery.created_at,
    updated_at: delivery.updated_at,
    finished_at: delivery.finished_at,
  };
}
