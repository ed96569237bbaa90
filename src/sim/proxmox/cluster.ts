import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { failure, missingConfig, TaskError } from './api-error.ts';
import { isDiskKey, printDrive } from './format/config-value.ts';
import { driveFormat, netFormat } from './format/formats.ts';
import { parseProperties, printProperties, PropertyFormatError } from './format/property-string.ts';
import { uniqueTags } from './format/tags.ts';
import { lvcreateNoSpace } from './messages.ts';
import type { SimOptions, SimStorageSpec } from './options.ts';
import { formatSize, parseSize } from './sizes.ts';

/** The in-memory state of a simulated cluster: nodes, storages with their volumes, and VMs with their configs. */

export interface SimNode {
  name: string;
  online: boolean;
}

export interface SimVm {
  vmid: number;
  node: string;
  /** As in `/etc/pve/qemu-server/<vmid>.conf`: every value a string. */
  config: Record<string, string>;
  /** Changes waiting for the next start (a running VM cannot take them now). */
  pending: Record<string, string>;
  pendingDelete: Set<string>;
  running: boolean;
  startedAt?: number;
  agentReadyAt?: number;
  /** Paused (QMP `stop`): still `running` to Proxmox, `qmpstatus: paused`, no agent answers. */
  paused?: boolean;
  /** A fault: the guest agent stops answering (until a reboot or reset, or the fault is cleared). */
  agentHung?: boolean;
}

export interface SimVolume {
  volid: string;
  storage: string;
  /** The node holding it; for shared storage the node that created it. */
  node: string;
  vmid: number;
  sizeBytes: number;
  format: string;
  content: 'images' | 'backup';
  ctime: number;
  notes?: string;
  protected?: boolean;
}

export class SimCluster {
  readonly nodes: Map<string, SimNode>;
  readonly storages: SimStorageSpec[];
  readonly vms = new Map<number, SimVm>();
  readonly volumes = new Map<string, SimVolume>();
  readonly options: SimOptions;

  constructor(options: SimOptions) {
    this.options = options;
    this.storages = options.storages;
    this.nodes = new Map(Array.from({ length: options.nodes }, (_, i) => {
      const name = `${options.nodeNamePrefix}${i + 1}`;
      return [name, { name, online: true }];
    }));
    for (const template of options.templates) this.#addTemplate(template);
  }

  requireNode(node: string): SimNode {
    const found = this.nodes.get(node);
    if (!found) throw failure(`hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
    return found;
  }

  requireStorage(id: string): SimStorageSpec {
    const storage = this.storages.find((s) => s.id === id);
    if (!storage) throw failure(`storage '${id}' does not exist`);
    return storage;
  }

  requireVm(node: string, vmid: number): SimVm {
    const vm = this.vms.get(vmid);
    if (!vm || vm.node !== node) throw missingConfig(node, vmid);
    return vm;
  }

  /** The lowest id from the cluster's lower bound that no VM uses: nothing is reserved. */
  nextFreeVmid(): number {
    let id = this.options.nextIdLower;
    while (this.vms.has(id)) id += 1;
    return id;
  }

  usedBytes(storageId: string, node: string): number {
    const storage = this.requireStorage(storageId);
    let used = 0;
    for (const volume of this.volumes.values()) {
      if (volume.storage === storageId && (storage.shared || volume.node === node)) used += volume.sizeBytes;
    }
    return used;
  }

  availBytes(storageId: string, node: string): number {
    return this.requireStorage(storageId).capacityBytes - this.usedBytes(storageId, node);
  }

  /** Allocates a volume or fails the way a full LVM thin pool does. */
  allocateVolume(input: { storage: string; node: string; vmid: number; sizeBytes: number; content: SimVolume['content'];
    name?: string; format?: string; notes?: string; protected?: boolean }): SimVolume {
    const storage = this.requireStorage(input.storage);
    const wanted = input.content === 'images' ? 'images' : 'backup';
    if (!storage.content.includes(wanted)) {
      throw new TaskError(`storage '${storage.id}' does not support content-type '${wanted}'`);
    }
    const avail = this.availBytes(input.storage, input.node);
    const name = input.name ?? this.#freeDiskName(input.storage, input.vmid);
    // Every simulated image storage is LVM-thin in the volume group of a default install; unlike a real thin pool
    // it refuses to overcommit, and says so the way LVMPlugin's lvcreate does.
    if (input.sizeBytes > avail) throw new TaskError(lvcreateNoSpace('pve', name, avail, input.sizeBytes));
    const volume: SimVolume = {
      volid: `${input.storage}:${name}`, storage: input.storage, node: input.node, vmid: input.vmid,
      sizeBytes: input.sizeBytes, format: input.format ?? 'raw', content: input.content, ctime: Math.floor(Date.now() / 1000),
      ...(input.notes === undefined ? {} : { notes: input.notes }),
      ...(input.protected ? { protected: true } : {}),
    };
    this.volumes.set(volume.volid, volume);
    return volume;
  }

  /** Grows a volume in place, failing when the storage cannot hold the difference. */
  growVolume(volid: string, node: string, newSize: number): void {
    const volume = this.volumes.get(volid);
    if (!volume) throw new TaskError(`volume '${volid}' does not exist`);
    const avail = this.availBytes(volume.storage, node);
    if (newSize - volume.sizeBytes > avail) {
      throw new TaskError(`unable to resize '${volid}': insufficient free space on storage '${volume.storage}'`);
    }
    volume.sizeBytes = newSize;
  }

  freeVolume(volid: string): void {
    this.volumes.delete(volid);
  }

  /** PVE's digest: SHA-1 of the config file, pending section included. */
  digest(vm: SimVm): string {
    const text = JSON.stringify([sortedEntries(vm.config), sortedEntries(vm.pending), [...vm.pendingDelete].sort()]);
    return createHash('sha1').update(text).digest('hex');
  }

  /** The config as GET config shows it: pending values applied unless `current` asks for the running ones. */
  visibleConfig(vm: SimVm, current: boolean): Record<string, string> {
    if (current) return { ...vm.config };
    const merged = { ...vm.config, ...vm.pending };
    for (const key of vm.pendingDelete) delete merged[key];
    return merged;
  }

  applyPending(vm: SimVm): void {
    Object.assign(vm.config, vm.pending);
    for (const key of vm.pendingDelete) this.removeConfigKey(vm, key, false);
    vm.pending = {};
    vm.pendingDelete.clear();
  }

  /** Deletes a key the way PVE does: a disk moves to unusedN (or is freed with force), an unused disk is freed. */
  removeConfigKey(vm: SimVm, key: string, force: boolean): void {
    const value = vm.config[key];
    if (value === undefined) return;
    delete vm.config[key];
    if (!isDiskKey(key)) return;
    const volid = volumeOf(value);
    if (!volid || !this.volumes.has(volid)) return;
    if (force || key.startsWith('unused')) this.freeVolume(volid);
    // PVE's add_unused_volume: a volume already listed as unused is not listed twice.
    else if (!Object.entries(vm.config).some(([k, v]) => k.startsWith('unused') && v === volid)) {
      vm.config[this.#freeUnusedKey(vm)] = volid;
    }
  }

  /**
   * qemu-server's write_vm_config: an unusedN entry whose volume a drive uses again (attached now, or pending) is
   * removed ("remove 'unusedX' settings if we re-add a volume").
   */
  dropReattachedUnused(vm: SimVm): void {
    const drives = { ...vm.config, ...vm.pending };
    const used = new Set(Object.entries(drives).filter(([key]) => isDiskKey(key) && !key.startsWith('unused'))
      .map(([, value]) => readDrive(value)?.get('file')));
    for (const [key, value] of Object.entries(vm.config)) {
      if (key.startsWith('unused') && used.has(value)) delete vm.config[key];
    }
  }

  /** Volumes a VM's config refers to (disks and unused disks). */
  referencedVolumes(config: Record<string, string>): string[] {
    return Object.entries(config).filter(([key]) => isDiskKey(key)).map(([, value]) => volumeOf(value))
      .filter((volid): volid is string => volid !== undefined && this.volumes.has(volid));
  }

  newMac(): string {
    return `BC:24:11:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
  }

  newSmbios(): string {
    return `uuid=${randomUUID()}`;
  }

  #addTemplate(spec: SimOptions['templates'][number]): void {
    const sizeBytes = spec.diskGiB * 1024 ** 3;
    const volume = this.allocateVolume({
      storage: spec.storage, node: spec.node, vmid: spec.vmid, sizeBytes, content: 'images', name: `base-${spec.vmid}-disk-0`,
    });
    const config: Record<string, string> = {
      name: spec.name, template: '1', memory: String(spec.memoryMiB ?? 1024), cores: String(spec.cores ?? 1),
      sockets: '1', cpu: 'x86-64-v2-AES', ostype: 'l26', scsihw: 'virtio-scsi-single', agent: '1', boot: 'order=scsi0',
      scsi0: `${volume.volid},iothread=1,size=${formatSize(sizeBytes)}`, ide2: `${spec.storage}:vm-${spec.vmid}-cloudinit,media=cdrom`,
      net0: printProperties(new Map([['model', 'virtio'], ['macaddr', this.newMac()], ['bridge', 'vmbr0']]), netFormat),
      serial0: 'socket', vga: 'serial0', smbios1: this.newSmbios(),
      vmgenid: randomUUID(), meta: `creation-qemu=9.2.0,ctime=${Math.floor(Date.now() / 1000)}`,
    };
    if (spec.tags?.length) config.tags = uniqueTags(spec.tags.join(';'));
    this.vms.set(spec.vmid, { vmid: spec.vmid, node: spec.node, config, pending: {}, pendingDelete: new Set(), running: false });
  }

  #freeDiskName(storage: string, vmid: number): string {
    for (let n = 0; ; n++) {
      const name = `vm-${vmid}-disk-${n}`;
      if (!this.volumes.has(`${storage}:${name}`)) return name;
    }
  }

  #freeUnusedKey(vm: SimVm): string {
    for (let n = 0; ; n++) if (vm.config[`unused${n}`] === undefined) return `unused${n}`;
  }
}

/** A stored drive value, or undefined for one PVE could not parse either (its foreach_drive skips those). */
function readDrive(value: string): Map<string, string> | undefined {
  try {
    return parseProperties(value, driveFormat);
  } catch (error) {
    if (error instanceof PropertyFormatError) return undefined;
    throw error;
  }
}

/** The volume id of a disk value (`local-lvm:vm-105-disk-0,size=4G` → `local-lvm:vm-105-disk-0`). */
export function volumeOf(value: string): string | undefined {
  const file = readDrive(value)?.get('file');
  return file && file.includes(':') ? file : undefined;
}

/** The disk's size from its `size=` option, in bytes. */
export function diskSize(value: string): number {
  return parseSize(readDrive(value)?.get('size') ?? '0') ?? 0;
}

export function withDiskSize(value: string, bytes: number): string {
  const drive = parseProperties(value, driveFormat);
  drive.set('size', formatSize(bytes));
  return printDrive(drive);
}

function sortedEntries(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
