import type { BridgeDeps } from './deps.ts';

/** CloudPodVolume: not bridged yet (placeholder the volume bridge replaces). */
export async function syncCloudPodVolume(_deps: BridgeDeps, _resource: any): Promise<void> {}

export async function orphanedVolume(_deps: BridgeDeps, _resource: any): Promise<void> {}
