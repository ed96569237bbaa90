import { withHealthy } from '../pods/view.ts';
import { nameIsAsAsked } from '../dns/names.ts';
import { shownPhase } from '../front-door.ts';
import { healthCheckSchema, sameProbe } from '../health/probe-spec.ts';
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
  healthCheck?: CloudPodHealthCheck;
}

/** The REST API's health_check, camelCased. */
export interface CloudPodHealthCheck {
  type: 'tcp' | 'http' | 'https';
  port?: number;
  path?: string;
  expectedStatus?: number;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

/** The probe as the REST API's body names it; the order validates it (and fills in its defaults). */
function probeOrderOf(probe: CloudPodHealthCheck): Record<string, unknown> {
  return Object.fromEntries(Object.entries(probe).map(([key, value]) =>
    [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), value]));
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
    power_state: spec.powerState ?? 'running', app_options: spec.appOptions ?? {}, node: spec.node ?? null,
    ...(spec.healthCheck ? { health_check: probeOrderOf(spec.healthCheck) } : {}) };
}

/**
 * The fields the row must change to match the spec (the mutable ones: resources, power, the name and the probe);
 * empty when none. The row holds the qualified name, so `web` in `example.com` matches `web.example.com`, and the
 * probe with its defaults, so a spec leaving them out matches it.
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
  const held = pod.health_check ?? null;
  if (!spec.healthCheck) {
    if (held !== null) change.health_check = null;
  } else {
    const wanted = probeOrderOf(spec.healthCheck);
    const parsed = healthCheckSchema.safeParse(wanted);
    // An invalid probe goes to the order, which refuses it naming the field.
    if (!parsed.success || !sameProbe(parsed.data, held)) change.health_check = wanted;
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
    // The Healthy condition too, from the health controller's record, as the REST view shows it.
    ...observedConditions(converged, withHealthy(pod), resource),
    podId: pod.id,
    ipAddresses: pod.ip_addresses,
  };
  if (pod.vmid !== null) status.vmid = pod.vmid;
  if (pod.node !== null) status.node = pod.node;
  return status;
}
