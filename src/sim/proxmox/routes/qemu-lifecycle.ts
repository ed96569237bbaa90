import { randomUUID } from 'node:crypto';
import { parameterErrors, TaskError } from '../api-error.ts';
import { diskSize, volumeOf, withDiskSize, type SimVm } from '../cluster.ts';
import { isDiskKey } from '../format/config-value.ts';
import { netFormat } from '../format/formats.ts';
import { parseProperties, printProperties } from '../format/property-string.ts';
import { cloneFailed, configFileExists, configModified, protectionEnabled, runningDestroyFailed } from '../messages.ts';
import { bool, dnsName, int, isTrue, nodeSpec, optional, storageSpec, str, vmidSpec, type ParamSpecs } from '../params.ts';
import type { Route, RouteRequest } from '../router.ts';
import { formatSize, parseSize } from '../sizes.ts';
import { assertUnlocked, requestedVm, startTask, underVmLock } from './common.ts';

/** Clone, resize and destroy: the operations that allocate or free storage. */

const vmPath: ParamSpecs = { node: nodeSpec, vmid: vmidSpec };
const resizableDisks = [...range('ide', 4), ...range('scsi', 31), ...range('virtio', 16), ...range('sata', 6), 'efidisk0', 'tpmstate0'];

export const qemuLifecycleRoutes: Route[] = [
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/clone', privilege: 'VM.Clone',
    params: {
      ...vmPath, newid: vmidSpec, name: { type: 'string', optional: true, format: dnsName }, description: str,
      full: bool, storage: optional(storageSpec), format: { type: 'string', optional: true, enum: ['raw', 'qcow2', 'vmdk'] },
      target: optional(nodeSpec), pool: str, snapname: str, bwlimit: int,
    },
    handle: clone,
  },
  {
    method: 'PUT', path: '/nodes/{node}/qemu/{vmid}/resize', privilege: 'VM.Config.Disk',
    params: {
      ...vmPath, disk: { type: 'string', enum: resizableDisks }, digest: { type: 'string', optional: true, maxLength: 40 },
      size: { type: 'string', format: (v) => (/^\+?\d+(\.\d+)?[KMGT]?$/.test(v) ? undefined : 'value does not match the regex pattern') },
      skiplock: bool,
    },
    handle: resize,
  },
  {
    method: 'DELETE', path: '/nodes/{node}/qemu/{vmid}', privilege: 'VM.Allocate',
    params: { ...vmPath, purge: bool, 'destroy-unreferenced-disks': bool, skiplock: bool },
    handle: destroy,
  },
];

async function clone(request: RouteRequest): Promise<string> {
  const { params, sim } = request;
  const source = requestedVm(request);
  const newid = Number(params.newid);
  const isTemplate = source.config.template === '1';
  const full = params.full === undefined ? !isTemplate : isTrue(params.full);
  if (!full && params.storage) throw parameterErrors({ storage: "parameter 'storage' not allowed for linked clones" });
  if (!full && !isTemplate) throw parameterErrors({ full: 'linked clone of a VM that is not a template is not supported' });
  const targetNode = params.target ?? source.node;
  sim.cluster.requireNode(targetNode);
  // The source's lock file is held for the whole clone: shared when it is stopped, so template clones run together.
  const release = await sim.locks.acquire(source.vmid, source.running ? 'exclusive' : 'shared', Math.min(1000, sim.durations.lockTimeoutMs));
  try {
    assertUnlocked(source);
    if (sim.cluster.vms.has(newid)) throw new TaskError(configFileExists(newid));
    if (targetNode !== source.node && usesLocalStorage(request, source)) {
      throw new TaskError(`can't clone VM to node '${targetNode}' (VM uses local storage)`);
    }
  } catch (error) {
    release();
    throw error;
  }
  const target = createCloneTarget(request, source, newid, targetNode);
  return startTask(request, 'qmclone', source.vmid, async (task) => {
    try {
      task.log(`create ${full ? 'full' : 'linked'} clone of drive scsi0 (${source.config.scsi0 ?? 'none'})`);
      await task.sleep(sim.durations.cloneMs);
      copyDisks(request, source, target, full);
      delete target.config.lock;
    } catch (error) {
      for (const volid of sim.cluster.referencedVolumes(target.config)) {
        if (!sim.cluster.referencedVolumes(source.config).includes(volid)) sim.cluster.freeVolume(volid);
      }
      sim.cluster.vms.delete(target.vmid);
      throw new TaskError(cloneFailed((error as Error).message));
    } finally {
      release();
    }
  });
}

/** The new VM exists at once, locked `clone`, with new MACs and a new SMBIOS UUID: nextid already skips it. */
function createCloneTarget(request: RouteRequest, source: SimVm, newid: number, node: string): SimVm {
  const { params, sim } = request;
  const config: Record<string, string> = { ...source.config, lock: 'clone', smbios1: sim.cluster.newSmbios(), vmgenid: randomUUID() };
  delete config.template;
  config.name = params.name ?? `Copy-of-VM-${source.config.name ?? source.vmid}`;
  if (params.description !== undefined) config.description = params.description;
  for (const key of Object.keys(config)) {
    if (/^net\d+$/.test(key)) config[key] = withNewMac(config[key]!, sim.cluster.newMac());
    if (isDiskKey(key)) delete config[key]; // copied by the worker
  }
  const vm: SimVm = { vmid: newid, node, config, pending: {}, pendingDelete: new Set(), running: false };
  sim.cluster.vms.set(newid, vm);
  return vm;
}

function copyDisks(request: RouteRequest, source: SimVm, target: SimVm, full: boolean): void {
  const { params, sim } = request;
  for (const [key, value] of Object.entries(source.config)) {
    if (!isDiskKey(key) || key.startsWith('unused')) continue;
    const volid = volumeOf(value);
    if (value.includes('media=cdrom')) {
      if (volid?.endsWith('-cloudinit')) target.config[key] = value.replace(`vm-${source.vmid}-cloudinit`, `vm-${target.vmid}-cloudinit`);
      continue;
    }
    const sourceVolume = volid ? sim.cluster.volumes.get(volid) : undefined;
    if (!sourceVolume) continue;
    const storage = params.storage ?? sourceVolume.storage;
    const copy = sim.cluster.allocateVolume({
      storage, node: target.node, vmid: target.vmid, content: 'images', sizeBytes: full ? sourceVolume.sizeBytes : 0,
      ...(full ? {} : { name: `${volid!.split(':')[1]}/vm-${target.vmid}-disk-${key.replace(/\D/g, '')}` }),
    });
    target.config[key] = withDiskSize(value.replace(volid!, copy.volid), sourceVolume.sizeBytes);
  }
}

function usesLocalStorage(request: RouteRequest, vm: SimVm): boolean {
  return request.sim.cluster.referencedVolumes(vm.config).some((volid) => {
    const volume = request.sim.cluster.volumes.get(volid)!;
    return !request.sim.cluster.requireStorage(volume.storage).shared;
  });
}

function resize(request: RouteRequest): string {
  const { params, sim } = request;
  const vm = requestedVm(request);
  const disk = params.disk!;
  return startTask(request, 'resize', vm.vmid, (task) => underVmLock(request, vm.vmid, async () => {
    if (params.digest && params.digest !== sim.cluster.digest(vm)) {
      throw new TaskError(configModified);
    }
    assertUnlocked(vm, isTrue(params.skiplock));
    const value = vm.config[disk];
    const volid = value === undefined ? undefined : volumeOf(value);
    if (value === undefined || volid === undefined) throw new TaskError(`disk '${disk}' does not exist`);
    const current = diskSize(value);
    const relative = params.size!.startsWith('+');
    const amount = parseSize(params.size!.replace(/^\+/, ''))!;
    const wanted = relative ? current + amount : amount;
    if (wanted < current) throw new TaskError('shrinking disks is not supported');
    if (wanted === current) {
      task.log(`disk '${disk}' already has size ${formatSize(current)}: nothing to do`);
      return;
    }
    await task.sleep(sim.durations.resizeMs);
    sim.cluster.growVolume(volid, vm.node, wanted);
    vm.config[disk] = withDiskSize(value, wanted);
    task.log(`resized ${disk} from ${formatSize(current)} to ${formatSize(wanted)}`);
  }));
}

async function destroy(request: RouteRequest): Promise<string> {
  const { params, sim } = request;
  const vm = requestedVm(request);
  assertUnlocked(vm, isTrue(params.skiplock));
  if (vm.running) throw new TaskError(runningDestroyFailed(vm.vmid));
  if (vm.config.protection === '1') throw new TaskError(protectionEnabled(vm.vmid));
  return startTask(request, 'qmdestroy', vm.vmid, (task) => underVmLock(request, vm.vmid, async () => {
    vm.config.lock = 'destroyed';
    await task.sleep(sim.durations.destroyMs);
    const referenced = sim.cluster.referencedVolumes(vm.config);
    const owned = isTrue(params['destroy-unreferenced-disks'])
      ? [...sim.cluster.volumes.values()].filter((v) => v.vmid === vm.vmid && v.content === 'images').map((v) => v.volid) : [];
    for (const volid of new Set([...referenced, ...owned])) {
      sim.cluster.freeVolume(volid);
      task.log(`Removing image: ${volid}`);
    }
    sim.cluster.vms.delete(vm.vmid);
    task.log(`purging VM ${vm.vmid} from related configurations..`);
  }));
}

/** qemu-server's clone: every NIC gets a new random MAC, printed again with print_net. */
function withNewMac(value: string, mac: string): string {
  const device = parseProperties(value, netFormat);
  device.set('macaddr', mac);
  return printProperties(device, netFormat);
}

function range(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}
