import { nameIsAsAsked } from '../dns/names.ts';
import { shownPhase } from '../front-door.ts';
import type { NewPodOrder, PodChange } from '../pods/orders.ts';
import type { Pod } from '../pods/store.ts';
import type { ResourceStatus } from './resource.ts';
import { observedConditions } from './status-report.ts';

/** Pure mapping between a CloudPod resource and its cloud_pods row. */

export interface CloudPodSpec {
  template: string;
  cpuCores: number;
  memoryMb: number;
  diskGb: number;
  hostname?: string;
  zone?: string;
  sshKeys?: string[];
  powerState?: 'running' | 'stopped';
  appOptions?: Record<string, unknown>;
  node?: string;
}

export interface CloudPodStatus extends ResourceStatus {
  vmid?: number;
  node?: string;
  ipAddresses?: string[];
  podId?: string;
}

/** The REST API's order for a new resource, in the namespace's tenant. */
export function orderOf(tenantId: string, name: string, spec: CloudPodSpec): NewPodOrder {
  return { tenantId, name, templateCode: spec.template, cpu_cores: spec.cpuCores, memory_mb: spec.memoryMb,
    disk_gb: spec.diskGb, hostname: spec.hostname ?? null, zone: spec.zone ?? null, ssh_keys: spec.sshKeys ?? [],
    power_state: spec.powerState ?? 'running', app_options: spec.appOptions ?? {}, node: spec.node ?? null };
}

/**
 * The fields the row must change to match the spec (the mutable ones: resources, power and the name); empty when
 * none. The row holds the qualified name, so `web` in `example.com` matches `web.example.com`.
 */
export function changeOf(pod: Pod, spec: CloudPodSpec): PodChange {
  const change: PodChange = {};
  if (spec.cpuCores !== pod.cpu_cores) change.cpu_cores = spec.cpuCores;
  if (spec.memoryMb !== pod.memory_mb) change.memory_mb = spec.memoryMb;
  if (spec.diskGb !== pod.disk_gb) change.disk_gb = spec.diskGb;
  if ((spec.powerState ?? 'running') !== pod.power_state) change.power_state = spec.powerState ?? 'running';
  if (!nameIsAsAsked(pod, spec)) {
    change.hostname = spec.hostname ?? null;
    change.zone = spec.zone ?? null;
  }
  return change;
}

/**
 * The status subresource for a row. Generations differ between the row and the resource, so the resource's
 * generation counts as observed only when the row has converged and holds exactly the resource's spec;
 * otherwise the last observed one stays.
 */
export function statusOf(pod: Pod,
  resource: { metadata: { generation?: number }; spec: CloudPodSpec; status?: { observedGeneration?: number } }): CloudPodStatus {
  const converged = pod.observed_generation >= pod.generation && Object.keys(changeOf(pod, resource.spec)).length === 0;
  const status: CloudPodStatus = {
    phase: shownPhase(pod),
    ...observedConditions(converged, pod.conditions, resource),
    podId: pod.id,
    ipAddresses: pod.ip_addresses,
  };
  if (pod.vmid !== null) status.vmid = pod.vmid;
  if (pod.node !== null) status.node = pod.node;
  return status;
}
