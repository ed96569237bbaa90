import { apiPath, type Params, type ProxmoxApi } from './api.ts';
import type { ConfigWrite } from './encoding/config-write.ts';
import { ConflictError } from './errors.ts';
import type { SnippetStore } from './snippets.ts';
import { waitForTask, type TaskResult, type WaitOptions } from './tasks.ts';
import type {
  ClusterResource, GuestNetworkInterface, NodeSummary, PendingChange, StorageContentItem, StorageStatus, TaskStatus,
  TaskSummary, VmConfig, VmStatus, VmSummary,
} from './types.ts';
import { parseUpid } from './upid.ts';

/**
 * The calls CloudPods makes to Proxmox VE, typed. Asynchronous calls answer a UPID to persist and wait for
 * (`waitForTask`); synchronous ones answer when done. Every failure is a classified ProxmoxError.
 */

export interface CloneOptions {
  newid: number;
  /** A DNS name: no underscores. */
  name?: string;
  /** Default: full for a VM, linked for a template; a linked clone takes no `storage`. */
  full?: boolean;
  storage?: string;
  target?: string;
  pool?: string;
  description?: string;
  format?: 'raw' | 'qcow2' | 'vmdk';
}

export interface ConfigWriteOptions {
  /** The digest read with the config: the write fails (conflict `modified`) if the config changed since. */
  digest?: string;
  skiplock?: boolean;
  /** Seconds POST config waits before answering; null if the change was done by then. */
  backgroundDelay?: number;
}

export interface BackupOptions {
  vmid: number;
  storage: string;
  mode?: 'snapshot' | 'suspend' | 'stop';
  compress?: '0' | '1' | 'gzip' | 'lzo' | 'zstd';
  /** Without it the backup's notes stay empty; `{{guestname}}`, `{{vmid}}`, `{{node}}`, `{{cluster}}` expand. */
  notesTemplate?: string;
  protected?: boolean;
  /** PVE default 1: prunes by retention. */
  remove?: boolean;
  pruneBackups?: string;
}

export interface ProxmoxClientOptions {
  api: ProxmoxApi;
  snippets: SnippetStore;
  /** Defaults for waitForTask (poll interval from configuration). */
  taskWait?: WaitOptions;
}

/** 500s that only mean "the guest agent is not answering yet": IP unknown for now. */
const agentNotReady = /No QEMU guest agent configured|QEMU guest agent is not running|is not running/;

export class ProxmoxClient {
  readonly api: ProxmoxApi;
  readonly #snippets: SnippetStore;
  readonly #taskWait: WaitOptions;

  constructor(options: ProxmoxClientOptions) {
    this.api = options.api;
    this.#snippets = options.snippets;
    this.#taskWait = options.taskWait ?? {};
  }

  // Cluster

  async clusterResources(type?: 'vm' | 'storage' | 'node'): Promise<ClusterResource[]> {
    const resources = await this.api.call<ClusterResource[]>('GET', '/cluster/resources', { type });
    return resources.map((r) => (r.vmid === undefined ? r : { ...r, vmid: Number(r.vmid) }));
  }

  /** The lowest free VMID. Nothing is reserved: persist it before cloning and treat "already exists" as a collision. */
  async nextId(): Promise<number> {
    return Number(await this.api.call<string | number>('GET', '/cluster/nextid'));
  }

  /** Whether a VMID is free right now (`nextid?vmid=`): a destroyed VM's id shows free once the destroy finished. */
  async isVmidFree(vmid: number): Promise<boolean> {
    try {
      await this.api.call('GET', '/cluster/nextid', { vmid });
      return true;
    } catch (error) {
      if (error instanceof ConflictError && error.reason === 'already-exists') return false;
      throw error;
    }
  }

  nodes(): Promise<NodeSummary[]> {
    return this.api.call<NodeSummary[]>('GET', '/nodes');
  }

  // VMs

  async listVms(node: string): Promise<VmSummary[]> {
    const vms = await this.api.call<VmSummary[]>('GET', apiPath`/nodes/${node}/qemu`);
    return vms.map((vm) => ({ ...vm, vmid: Number(vm.vmid) }));
  }

  /** The config with pending changes applied (or the running values with `current`), and its digest. */
  getConfig(node: string, vmid: number, options: { current?: boolean } = {}): Promise<VmConfig> {
    return this.api.call<VmConfig>('GET', apiPath`/nodes/${node}/qemu/${vmid}/config`, { current: options.current });
  }

  /** POST config: a qmconfig task (use for disk allocation and hotplug); null when done within backgroundDelay. */
  async updateConfig(node: string, vmid: number, write: ConfigWrite, options: ConfigWriteOptions = {}): Promise<string | null> {
    const upid = await this.api.call<string | null>('POST', apiPath`/nodes/${node}/qemu/${vmid}/config`,
      { ...configParams(write, options), background_delay: options.backgroundDelay }, { storages: allocatedStorages(write) });
    return upid ?? null;
  }

  /** PUT config: synchronous; a lock or digest mismatch fails the call itself. */
  async updateConfigSync(node: string, vmid: number, write: ConfigWrite, options: ConfigWriteOptions = {}): Promise<void> {
    await this.api.call('PUT', apiPath`/nodes/${node}/qemu/${vmid}/config`, configParams(write, options),
      { storages: allocatedStorages(write) });
  }

  pending(node: string, vmid: number): Promise<PendingChange[]> {
    return this.api.call<PendingChange[]>('GET', apiPath`/nodes/${node}/qemu/${vmid}/pending`);
  }

  /** A qmclone task, running on the source node; its id in the UPID is the source VMID. */
  clone(node: string, vmid: number, options: CloneOptions): Promise<string> {
    return this.api.call<string>('POST', apiPath`/nodes/${node}/qemu/${vmid}/clone`, {
      newid: options.newid, name: options.name, full: options.full, storage: options.storage, target: options.target,
      pool: options.pool, description: options.description, format: options.format,
    }, { storages: [options.storage] });
  }

  /**
   * Grows a disk to an absolute size (`32G`): a retried relative size would grow twice. PVE cannot shrink. A resize
   * task from PVE 8.0 on.
   */
  resize(node: string, vmid: number, disk: string, size: string, options: { digest?: string; storage?: string } = {}): Promise<string> {
    if (!/^\d+(\.\d+)?[KMGT]?$/.test(size)) throw new RangeError(`resize takes an absolute size such as 32G, got "${size}"`);
    return this.api.call<string>('PUT', apiPath`/nodes/${node}/qemu/${vmid}/resize`, { disk, size, digest: options.digest },
      { storages: [options.storage] });
  }

  start(node: string, vmid: number, options: { timeout?: number } = {}): Promise<string> {
    return this.api.call<string>('POST', apiPath`/nodes/${node}/qemu/${vmid}/status/start`, { timeout: options.timeout });
  }

  /** A clean reboot through the guest (ACPI, or the agent with agent=1): a qmreboot task, failing after `timeout` s. */
  reboot(node: string, vmid: number, options: { timeout?: number } = {}): Promise<string> {
    return this.api.call<string>('POST', apiPath`/nodes/${node}/qemu/${vmid}/status/reboot`, { timeout: options.timeout });
  }

  /** Resumes a paused VM (qmresume task). */
  resume(node: string, vmid: number): Promise<string> {
    return this.api.call<string>('POST', apiPath`/nodes/${node}/qemu/${vmid}/status/resume`);
  }

  /** Hard reset, as the reset button (qmreset task): the guest does not shut down. */
  reset(node: string, vmid: number): Promise<string> {
    return this.api.call<string>('POST', apiPath`/nodes/${node}/qemu/${vmid}/status/reset`);
  }

  /** Hard stop. */
  stop(node: string, vmid: number, options: { timeout?: number; skiplock?: boolean } = {}): Promise<string> {
    return this.api.call<string>('POST', apiPath`/nodes/${node}/qemu/${vmid}/status/stop`,
      { timeout: options.timeout, skiplock: options.skiplock });
  }

  /** ACPI or agent shutdown; with agent=1 and no agent it hangs until `timeout` unless `forceStop`. */
  shutdown(node: string, vmid: number, options: { timeout?: number; forceStop?: boolean } = {}): Promise<string> {
    return this.api.call<string>('POST', apiPath`/nodes/${node}/qemu/${vmid}/status/shutdown`,
      { timeout: options.timeout, forceStop: options.forceStop });
  }

  async currentStatus(node: string, vmid: number): Promise<VmStatus> {
    const status = await this.api.call<VmStatus>('GET', apiPath`/nodes/${node}/qemu/${vmid}/status/current`);
    return { ...status, vmid: Number(status.vmid) };
  }

  /** A qmdestroy task; by default with purge and destroy-unreferenced-disks, so nothing is left behind. */
  destroy(node: string, vmid: number, options: { purge?: boolean; destroyUnreferencedDisks?: boolean } = {}): Promise<string> {
    return this.api.call<string>('DELETE', apiPath`/nodes/${node}/qemu/${vmid}`, {
      purge: options.purge ?? true, 'destroy-unreferenced-disks': options.destroyUnreferencedDisks ?? true,
    });
  }

  /** Synchronous: detaches disks (to unusedN), or deletes their volumes with `force`. */
  async unlinkDisks(node: string, vmid: number, disks: readonly string[], options: { force?: boolean } = {}): Promise<void> {
    await this.api.call('PUT', apiPath`/nodes/${node}/qemu/${vmid}/unlink`, { idlist: disks.join(','), force: options.force });
  }

  /** Whether the guest agent answers `guest-ping` (false when it is not running; a hang is the caller's timeout). */
  async agentPing(node: string, vmid: number): Promise<boolean> {
    try {
      await this.api.call('POST', apiPath`/nodes/${node}/qemu/${vmid}/agent/ping`);
      return true;
    } catch (error) {
      if (error instanceof ConflictError && agentNotReady.test(error.message)) return false;
      throw error;
    }
  }

  /** The guest agent's interfaces, or null while it does not answer (no agent, VM stopped, still booting). */
  async guestNetworkInterfaces(node: string, vmid: number): Promise<GuestNetworkInterface[] | null> {
    try {
      const answer = await this.api.call<{ result: GuestNetworkInterface[] }>('GET',
        apiPath`/nodes/${node}/qemu/${vmid}/agent/network-get-interfaces`);
      return answer.result;
    } catch (error) {
      if (error instanceof ConflictError && agentNotReady.test(error.message)) return null;
      throw error;
    }
  }

  // Tasks

  /** Status read on the node named in the UPID, wherever the VM is now. */
  taskStatus(upid: string): Promise<TaskStatus> {
    return this.api.call<TaskStatus>('GET', apiPath`/nodes/${parseUpid(upid).node}/tasks/${upid}/status`);
  }

  async taskLog(upid: string, options: { start?: number; limit?: number } = {}): Promise<{ lines: string[]; total: number }> {
    const answer = await this.api.callWithTotal<Array<{ n: number; t: string }>>('GET',
      apiPath`/nodes/${parseUpid(upid).node}/tasks/${upid}/log`, { start: options.start, limit: options.limit });
    return { lines: answer.data.map((line) => line.t), total: answer.total ?? answer.data.length };
  }

  /** Tasks still running on a node (for a VM): finds in-flight work after a restart that lost its UPID. */
  activeTasks(node: string, vmid?: number): Promise<TaskSummary[]> {
    return this.api.call<TaskSummary[]>('GET', apiPath`/nodes/${node}/tasks`, { source: 'active', vmid });
  }

  waitForTask(upid: string, options: WaitOptions = {}): Promise<TaskResult> {
    return waitForTask(this.api, upid, { ...this.#taskWait, ...options });
  }

  // Storage and backups

  storageStatus(node: string, storage: string): Promise<StorageStatus> {
    return this.api.call<StorageStatus>('GET', apiPath`/nodes/${node}/storage/${storage}/status`);
  }

  storageContent(node: string, storage: string, filter: { content?: string; vmid?: number } = {}): Promise<StorageContentItem[]> {
    return this.api.call<StorageContentItem[]>('GET', apiPath`/nodes/${node}/storage/${storage}/content`,
      { content: filter.content, vmid: filter.vmid });
  }

  listBackups(node: string, storage: string, vmid?: number): Promise<StorageContentItem[]> {
    return this.storageContent(node, storage, { content: 'backup', vmid });
  }

  /** A vzdump task; the new archive is found by listing backups afterwards (the task names no volid). */
  backup(node: string, options: BackupOptions): Promise<string> {
    return this.api.call<string>('POST', apiPath`/nodes/${node}/vzdump`, {
      vmid: String(options.vmid), storage: options.storage, mode: options.mode, compress: options.compress,
      'notes-template': options.notesTemplate, protected: options.protected, remove: options.remove,
      'prune-backups': options.pruneBackups,
    }, { storages: [options.storage] });
  }

  /** Deletes a volume (a backup archive); an imgdel task. */
  async deleteVolume(node: string, storage: string, volid: string): Promise<string | null> {
    return (await this.api.call<string | null>('DELETE', apiPath`/nodes/${node}/storage/${storage}/content/${volid}`,
      {}, { storages: [storage] })) ?? null;
  }

  /** Uploads cloud-init user-data as a snippet and answers its volume id for `cicustom`. */
  uploadSnippet(node: string, fileName: string, content: string | Buffer): Promise<string> {
    return this.#snippets.upload(node, fileName, content);
  }

  close(): Promise<void> {
    return this.api.close();
  }
}

function configParams(write: ConfigWrite, options: ConfigWriteOptions): Params {
  return {
    ...write.set,
    delete: write.delete.length > 0 ? write.delete.join(',') : undefined,
    digest: options.digest,
    skiplock: options.skiplock,
  };
}

/** Storages a config write allocates on: new disks are `<storage>:<GiB>` or `<storage>:cloudinit`. */
function allocatedStorages(write: ConfigWrite): string[] {
  return Object.entries(write.set).filter(([key]) => /^(?:scsi|virtio|sata|ide|efidisk|tpmstate)\d+$/.test(key))
    .map(([, value]) => /^([^:,=]+):(?:\d+(?:\.\d+)?|cloudinit)(?:,|$)/.exec(value)?.[1])
    .filter((storage): storage is string => storage !== undefined);
}
