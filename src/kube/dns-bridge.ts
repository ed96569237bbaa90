import type { BridgeDeps } from './deps.ts';

/** CloudPodDNSRecord: not bridged yet (placeholder the DNS bridge replaces). */
export async function syncCloudPodDnsRecord(_deps: BridgeDeps, _resource: any): Promise<void> {}

export async function orphanedDnsRecord(_deps: BridgeDeps, _resource: any): Promise<void> {}
