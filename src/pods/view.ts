import { shownPhase } from '../front-door.ts';
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
      conditions: pod.conditions,
      generation: pod.generation,
      observed_generation: pod.observed_generation,
      vmid: pod.vmid,
      node: pod.node,
      ip_addresses: pod.ip_addresses,
    },
    reboot_requested_at: pod.reboot_requested_at,
    deletion_requested_at: pod.deletion_requested_at,
    created_at: pod.created_at,
    updated_at: pod.updated_at,
  };
}

export type PodView = ReturnType<typeof podView>;
