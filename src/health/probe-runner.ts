import { isIPv4 } from 'node:net';
import type { HealthCheck } from './probe-spec.ts';
import { runProbe } from './probe.ts';
import { probeAllowedNetworks, type ProbeTargetSettings } from './probe-target.ts';

/** What the health cycle knows of a pod when it runs its probe. */
export interface ProbedPod {
  ip_addresses: string[];
  health_check: HealthCheck | null;
}

/**
 * The health controller's probe runner: a pod's own probe against its own IPv4 address, within the probe's timeout,
 * through the hook address guard with the admins' allow-list as it is now. null: the pod has no probe (or no address
 * yet). A refused address is not the VM failing (the allow-list changed since the order): it is not reported.
 */
export function tenantProbes(settings: ProbeTargetSettings) {
  return async (pod: ProbedPod, signal: AbortSignal): Promise<{ ok: boolean; message: string } | null> => {
    const address = pod.ip_addresses.find((a) => isIPv4(a));
    if (!pod.health_check || !address) return null;
    const outcome = await runProbe(pod.health_check, address, { timeoutMs: pod.health_check.timeout_seconds * 1000, signal,
      guard: { allowedNetworks: await probeAllowedNetworks(settings) } });
    if (outcome.ok) return { ok: true, message: `answered in ${Math.round(outcome.latencyMs)} ms` };
    return outcome.reason === 'ProbeRefused' ? null : { ok: false, message: outcome.message };
  };
}
