import type { Logger } from '../observability/logger.ts';
import type { ClusterResource } from './types.ts';

/** What order-time checks read of the cluster: one `GET /cluster/resources`, split by type. */
export interface ClusterFacts {
  nodes: readonly ClusterResource[];
  storages: readonly ClusterResource[];
  vms: ReadonlyMap<number, ClusterResource>;
}

/** A shared, short-lived snapshot of the cluster: the pod controller's ClusterView (controllers/pod/cluster-view.ts). */
export interface ClusterSource {
  snapshot(): Promise<ClusterFacts>;
  invalidate(): void;
}

export interface ClusterLookupOptions {
  /** How long an order waits for the cluster before it is accepted unchecked. */
  waitMs?: number;
}

/**
 * The cluster as orders see it: the controller's cached view, so a burst of orders costs one Proxmox call every
 * few seconds, not one each. When Proxmox does not answer in time (down, slow) the answer is "unknown" and the
 * order is accepted: refusing valid orders during an outage would be worse than letting the controller report
 * what turns out not to exist. The outage is logged once when it starts and once when it ends.
 */
export class ClusterLookup {
  readonly #source: ClusterSource;
  readonly #logger: Logger;
  readonly #waitMs: number;
  #unreachable = false;

  constructor(source: ClusterSource, logger: Logger, options: ClusterLookupOptions = {}) {
    this.#source = source;
    this.#logger = logger;
    this.#waitMs = options.waitMs ?? 2_000;
  }

  /**
   * The cluster, or undefined when Proxmox cannot say within the wait. `fresh` drops the cached snapshot first:
   * for rare admin writes that must see a change made seconds ago (a VM just converted to a template).
   */
  async facts({ fresh = false }: { fresh?: boolean } = {}): Promise<ClusterFacts | undefined> {
    if (fresh) this.#source.invalidate();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), this.#waitMs); });
    try {
      const outcome = await Promise.race([this.#source.snapshot(), gaveUp]);
      if (outcome === 'timeout') {
        this.#lost(`no answer within ${this.#waitMs} ms`);
        return undefined;
      }
      if (this.#unreachable) {
        this.#unreachable = false;
        this.#logger.info('Proxmox VE answers again: orders are checked against the cluster');
      }
      return outcome;
    } catch (error) {
      this.#lost((error as Error).message);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #lost(why: string): void {
    if (this.#unreachable) return;
    this.#unreachable = true;
    this.#logger.warn({ reason: why },
      'Proxmox VE unreachable: orders are accepted without checking nodes, storages and template VMs');
  }
}
