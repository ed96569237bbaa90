import type { SimCluster } from './cluster.ts';
import type { VmFileLocks } from './flocks.ts';
import type { ForcedOutcome, SimTasks } from './tasks.ts';

/**
 * Failures on demand, for tests and benchmarks: added latency, error answers by path, VM lock files held, config
 * locks left behind, nodes going offline, storages reconfigured and tasks ending badly. Paths are regular
 * expressions matched against the path after `/api2/json`.
 */

export interface ErrorRule {
  method?: string;
  path: string;
  /** 0..1: the share of matching requests that fail. */
  rate: number;
  status: number;
  message: string;
}

export interface LatencyRule {
  path?: string;
  ms: number;
}

export class SimFaults {
  readonly #cluster: SimCluster;
  readonly #locks: VmFileLocks;
  readonly #tasks: SimTasks;
  #latency: LatencyRule[] = [];
  #errors: ErrorRule[] = [];
  /** The content of storages reconfigured by `setStorageContent`, as configured before, for `clear`. */
  #configuredContent = new Map<string, string[]>();

  constructor(cluster: SimCluster, locks: VmFileLocks, tasks: SimTasks) {
    this.#cluster = cluster;
    this.#locks = locks;
    this.#tasks = tasks;
  }

  /** Adds latency to matching requests (all when `path` is absent); rules add up. */
  addLatency(rule: LatencyRule): void {
    this.#latency.push(rule);
  }

  addErrorRule(rule: ErrorRule): void {
    this.#errors.push(rule);
  }

  /** Holds the VM's lock file for `ms`, so operations on it wait and time out as behind a stuck task. */
  async holdLockFile(vmid: number, ms: number): Promise<void> {
    const release = await this.#locks.acquire(vmid, 'exclusive', ms);
    setTimeout(release, ms).unref();
  }

  /** Writes `lock: <reason>` into a VM's config, as a crashed backup or clone leaves it; undefined clears it. */
  setConfigLock(vmid: number, reason: string | undefined): void {
    const vm = this.#cluster.vms.get(vmid);
    if (!vm) throw new Error(`no VM ${vmid}`);
    if (reason === undefined) delete vm.config.lock;
    else vm.config.lock = reason;
  }

  /** Stops a VM behind CloudPods' back, as `qm stop` on the node or a poweroff from inside the guest would. */
  stopVmOutOfBand(vmid: number): void {
    const vm = this.#requireVm(vmid);
    vm.running = false;
    vm.paused = false;
    vm.startedAt = undefined;
    vm.agentReadyAt = undefined;
  }

  /** Pauses a running VM behind CloudPods' back (`qm suspend`): Proxmox still lists it running. */
  pauseVmOutOfBand(vmid: number): void {
    const vm = this.#requireVm(vmid);
    if (!vm.running) throw new Error(`VM ${vmid} is not running`);
    vm.paused = true;
  }

  /** A guest agent that stops answering (hangs) or answers again; a reset of the VM brings it back. */
  setAgentHung(vmid: number, hung: boolean): void {
    this.#requireVm(vmid).agentHung = hung;
  }

  #requireVm(vmid: number) {
    const vm = this.#cluster.vms.get(vmid);
    if (!vm) throw new Error(`no VM ${vmid}`);
    return vm;
  }

  setNodeOnline(node: string, online: boolean): void {
    const found = this.#cluster.nodes.get(node);
    if (!found) throw new Error(`no node ${node}`);
    found.online = online;
  }

  /** What a storage may hold, changed as an admin's `pvesm set <storage> --content ...` would, on every node. */
  setStorageContent(storage: string, content: string[]): void {
    const found = this.#cluster.storages.find((s) => s.id === storage);
    if (!found) throw new Error(`no storage ${storage}`);
    if (!this.#configuredContent.has(storage)) this.#configuredContent.set(storage, found.content);
    found.content = [...content];
  }

  forceTaskOutcome(outcome: ForcedOutcome): void {
    this.#tasks.force(outcome);
  }

  clear(): void {
    this.#latency = [];
    this.#errors = [];
    for (const node of this.#cluster.nodes.values()) node.online = true;
    for (const vm of this.#cluster.vms.values()) vm.agentHung = false;
    for (const [storage, content] of this.#configuredContent) this.#cluster.requireStorage(storage).content = content;
    this.#configuredContent.clear();
  }

  latencyFor(path: string): number {
    return this.#latency.filter((rule) => !rule.path || new RegExp(rule.path).test(path)).reduce((sum, rule) => sum + rule.ms, 0);
  }

  errorFor(method: string, path: string): ErrorRule | undefined {
    return this.#errors.find((rule) => (!rule.method || rule.method === method) && new RegExp(rule.path).test(path)
      && Math.random() < rule.rate);
  }
}
