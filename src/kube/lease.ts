import type { Logger } from '../observability/logger.ts';
import { KubeApiError, type KubeClient } from './client.ts';

export interface LeaseTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** controller-runtime's defaults: 15 s lease, 10 s renew deadline, 2 s retry. */
export const defaultLeaseTiming: LeaseTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export interface LeaderElectionOptions extends LeaseTiming {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  /** Runs while this replica leads; its signal aborts when leadership is lost or the elector stops. */
  onLeading(signal: AbortSignal): Promise<void>;
}

const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * client-go's leader election on a coordination.k8s.io/v1 Lease. A foreign lease is judged by when this replica
 * last saw it change (local clock), never by the holder's timestamps, so clocks need not agree. A leader that
 * cannot renew within the renew deadline stops leading. Leaders may overlap briefly: reconciles are idempotent.
 */
export class LeaderElector {
  private readonly options: LeaderElectionOptions;
  private observed: { record: string; at: number } | null = null;
  private stopped = new AbortController();
  private leading: AbortController | null = null;
  private running: Promise<void> | null = null;
  isLeader = false;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
  }

  private get path() {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.options.namespace}/leases/${this.options.name}`;
  }

  /** One attempt: true when this replica holds the lease afterwards. */
  async tryAcquireOrRenew(now = new Date()): Promise<boolean> {
    const { client, identity, leaseDurationMs, namespace, name } = this.options;
    const spec = (acquireTime: Date, transitions: number) => ({ holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000), acquireTime: microTime(acquireTime), renewTime: microTime(now),
      leaseTransitions: transitions });
    let lease: any;
    try {
      lease = await client.request('GET', this.path);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
      await client.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: spec(now, 0) });
      return true;
    }
    const record = JSON.stringify([lease.spec?.holderIdentity, lease.spec?.renewTime]);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = lease.spec?.holderIdentity;
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && this.observed.at + duration > Date.now()) return false;
    const takeover = holder !== identity;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (takeover && holder ? 1 : 0);
    const acquired = takeover ? now : new Date(lease.spec.acquireTime ?? now);
    try {
      await client.request('PUT', this.path, { ...lease, spec: spec(acquired, transitions) });
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return false; // a racer won
      throw error;
    }
    return true;
  }

  start(): void {
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs, logger } = this.options;
    let lastRenew = 0;
    while (!this.stopped.signal.aborted) {
      let held = false;
      try {
        held = await this.tryAcquireOrRenew();
      } catch (error) {
        logger.warn({ err: error }, 'leader election: could not reach the lease');
      }
      if (held) lastRenew = Date.now();
      if (this.stopped.signal.aborted) break;
      if (held && !this.leading) {
        logger.info({ event: true, lease: this.options.name, identity: this.options.identity },
          'became the Kubernetes bridge leader');
        this.begin();
      } else if (!held && this.leading && Date.now() - lastRenew > renewDeadlineMs) {
        logger.warn({ lease: this.options.name }, 'lost the Kubernetes bridge lease; stopping the bridge');
        this.end();
      }
      await new Promise<void>((resolve) => {
        if (this.stopped.signal.aborted) { resolve(); return; }
        const timer = setTimeout(resolve, retryPeriodMs);
        this.stopped.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  }

  private work: Promise<void> | null = null;

  private begin(): void {
    const leading = new AbortController();
    this.leading = leading;
    this.isLeader = true;
    this.work = this.options.onLeading(leading.signal).catch((error) => {
      this.options.logger.error({ err: error }, 'the Kubernetes bridge stopped with an error');
    });
  }

  private end(): void {
    this.leading?.abort();
    this.leading = null;
    this.isLeader = false;
  }

  /** Stops leading and competing. The lease is not released (as controller-runtime's default): it expires. */
  async stop(): Promise<void> {
    this.stopped.abort();
    this.end();
    await this.running;
    this.end(); // in case an attempt in flight at stop() had just won the lease
    await this.work;
  }
}
