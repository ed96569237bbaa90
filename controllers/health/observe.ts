import type { HealthCheck } from '../../src/health/probe-spec.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { KeyedLimiter } from '../../src/proxmox/limiter.ts';
import type { ClusterResource } from '../../src/proxmox/types.ts';
import type { ClusterSnapshot } from '../pod/cluster-view.ts';
import type { HealthPod, PodProbes } from './decide.ts';

/** A pod as a tenant probe sees it (the seam for src/health/probe.ts: TCP or HTTP probes run from the controller). */
export interface ProbeTarget {
  id: string;
  vmid: number;
  node: string;
  ip_addresses: string[];
  /** The tenant's probe (src/health/probe-spec.ts), null when the pod has none. */
  health_check: HealthCheck | null;
}

/** Runs a pod's own probe: null when the pod has none (or none is due); never throws for a failing probe. */
export type ProbeRunner = (pod: ProbeTarget, signal: AbortSignal) => Promise<{ ok: boolean; message: string } | null>;

export interface ObserveHealthDeps {
  proxmox: ProxmoxClient;
  /** Agent pings (and their follow-up status reads) in flight per node. */
  pingsPerNode: number;
  /** How long a ping may take before the agent counts as unresponsive (a hung agent never answers). */
  agentTimeoutMs: number;
  probes?: ProbeRunner;
}

export type CheckedPod = HealthPod & ProbeTarget & { template_vmid: number };

/** Whether a VM config enables the guest agent (`agent: 1` or `agent: enabled=1,...`). */
export function agentEnabled(config: Record<string, unknown>): boolean {
  return /^(enabled=)?1\b/.test(String(config.agent ?? ''));
}

/**
 * What one cycle learns beyond the snapshot, pod by pod: the guest agent's ping for templates with the agent (the
 * template VM's config, read once per template and cycle), at most `pingsPerNode` at once per node and each within
 * `agentTimeoutMs`; the QMP status of a pod whose agent was silent (a paused VM looks running in the snapshot); and
 * the tenant's probe through the runner given, when any.
 */
export async function observeProbes(deps: ObserveHealthDeps, pods: readonly CheckedPod[], snapshot: ClusterSnapshot,
  signal: AbortSignal): Promise<Map<string, PodProbes>> {
  const limiter = new KeyedLimiter(deps.pingsPerNode);
  const templates = new Map<number, Promise<boolean>>();
  const hasAgent = (vmid: number): Promise<boolean> => {
    let known = templates.get(vmid);
    if (!known) {
      const template = snapshot.vms.get(vmid);
      known = template?.node
        ? deps.proxmox.getConfig(template.node, vmid).then(agentEnabled, () => false) : Promise.resolve(false);
      templates.set(vmid, known);
    }
    return known;
  };
  const results = new Map<string, PodProbes>();
  await Promise.all(pods.map(async (pod) => {
    const vm = snapshot.vms.get(pod.vmid);
    const up = vm !== undefined && vm.status === 'running' && !vm.lock && nodeOnline(snapshot, pod.node);
    if (!up || signal.aborted) {
      results.set(pod.id, { agent: 'not-asked' });
      return;
    }
    const probes: PodProbes = { agent: 'not-asked' };
    if (await hasAgent(pod.template_vmid)) {
      await limiter.run(pod.node, async () => {
        const answered = await within(deps.agentTimeoutMs, deps.proxmox.agentPing(pod.node, pod.vmid)).catch(() => false);
        probes.agent = answered ? 'answered' : 'silent';
        if (!answered) {
          const status = await within(deps.agentTimeoutMs, deps.proxmox.currentStatus(pod.node, pod.vmid)).catch(() => undefined);
          if (status && status.qmpstatus) probes.qmpstatus = status.qmpstatus;
        }
      });
    }
    if (deps.probes && probes.agent !== 'silent') {
      const outcome = await deps.probes(pod, signal).catch((error: Error) => ({ ok: false, message: error.message }));
      if (outcome) probes.probe = outcome;
    }
    results.set(pod.id, probes);
  }));
  return results;
}

export function nodeOnline(snapshot: ClusterSnapshot, node: string | null): boolean {
  const found: ClusterResource | undefined = snapshot.nodes.find((n) => n.node === node);
  return found?.status === 'online';
}

/** The answer, or false once `ms` pass (the request itself ends with the client's own timeout). */
function within<T>(ms: number, work: Promise<T>): Promise<T | false> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
