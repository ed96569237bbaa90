import { shownPhase } from '../front-door.ts';
import type { Condition } from '../db/schema.ts';
import type { Pod } from './store.ts';

/** A pod as the API shows it: spec (what was asked), status (what the controller observed). Secrets never leave. */
export function podView(pod: Pod) {
  return {
    id: pod.id,
    tenant_id: pod.tenant_id,
    name: pod.name,
    template: pod.template_code,
    managed_by: pod.managed_by,
    spec: {
      cpu_cores: pod.cpu_cores,
      memory_mb: pod.memory_mb,
      disk_gb: pod.disk_gb,
      hostname: pod.hostname,
      zone: pod.zone,
      ssh_keys: pod.ssh_keys,
      power_state: pod.power_state,
      app_options: pod.app_options,
      node: pod.requested_node,
      health_check: pod.health_check,
    },
    status: {
      phase: shownPhase(pod),
      conditions: withHealthy(pod),
      generation: pod.generation,
      observed_generation: pod.observed_generation,
      vmid: pod.vmid,
      node: pod.node,
      ip_addresses: pod.ip_addresses,
      ...(pod.health_checked_at ? { health: { failures: pod.health_failures, last_checked_at: pod.health_checked_at } } : {}),
    },
    reboot_requested_at: pod.reboot_requested_at,
    deletion_requested_at: pod.deletion_requested_at,
    created_at: pod.created_at,
    updated_at: pod.updated_at,
  };
}

/**
 * The pod controller's conditions and, once the health controller has a record, `Healthy` from its columns (it
 * writes them apart, so neither controller's status write can undo the other's).
 */
export function withHealthy(pod: Pod): Condition[] {
  if (pod.health_status === null) return pod.conditions;
  return [...pod.conditions.filter((c) => c.type !== 'Healthy'), {
    type: 'Healthy', status: pod.health_status, reason: pod.health_reason ?? '', message: pod.health_message ?? '',
    lastTransitionTime: (pod.health_changed_at ?? pod.health_checked_at ?? pod.updated_at).toISOString(),
  }];
}

export type PodView = ReturnType<typeof podView>;
