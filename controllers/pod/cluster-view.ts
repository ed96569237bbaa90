import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import type { ClusterResource } from '../../src/proxmox/types.ts';

export interface ClusterSnapshot {
  vms: Map<number, ClusterResource>;
  nodes: ClusterResource[];
  storages: ClusterResource[];
  takenAt: number;
}

/**
 * One `GET /cluster/resources` shared by every reconcile of the process for a short time: a resync of hundreds of
 * settled pods costs one Proxmox call, not one per pod. Readers that must not act on a stale view invalidate it.
 */
export class ClusterView {
  readonly #proxmox: ProxmoxClient;
  readonly #ttlMs: number;
  #snapshot: ClusterSnapshot | undefined;
  #loading: Promise<ClusterSnapshot> | undefined;

  constructor(proxmox: ProxmoxClient, ttlMs = 2_000) {
    this.#proxmox = proxmox;
    this.#ttlMs = ttlMs;
  }

  async snapshot(): Promise<ClusterSnapshot> {
    if (this.#snapshot && Date.now() - this.#snapshot.takenAt < this.#ttlMs) return this.#snapshot;
    this.#loading ??= this.#load().finally(() => { this.#loading = undefined; });
    return this.#loading;
  }

  invalidate(): void {
    this.#snapshot = undefined;
  }

  async #load(): Promise<ClusterSnapshot> {
    const takenAt = Date.now();
    const resources = await this.#proxmox.clusterResources();
    const snapshot: ClusterSnapshot = {
      vms: new Map(resources.filter((r) => r.type === 'qemu' && r.vmid !== undefined).map((r) => [Number(r.vmid), r])),
      nodes: resources.filter((r) => r.type === 'node'),
      storages: resources.filter((r) => r.type === 'storage'),
      takenAt,
    };
    this.#snapshot = snapshot;
    return snapshot;
  }
}
