import { TaskError } from '../api-error.ts';
import { volumeOf, type SimVm } from '../cluster.ts';
import { appliesWhileRunning, configValueSpecs, numericConfigKeys } from '../config-keys.ts';
import { isDiskKey, printDrive, writtenConfigValue } from '../format/config-value.ts';
import { driveFormat } from '../format/formats.ts';
import { parseProperties } from '../format/property-string.ts';
import { configModified } from '../messages.ts';
import { bool, configIdList, isTrue, nodeSpec, str, vmidSpec, type ParamSpecs } from '../params.ts';
import type { Route, RouteRequest } from '../router.ts';
import { formatSize } from '../sizes.ts';
import { vmSummary } from './cluster.ts';
import { assertUnlocked, requestedVm, startTask, underVmLock } from './common.ts';

/** The VM list, config read and write (async POST, sync PUT), pending changes and unlink. */

const vmPath: ParamSpecs = { node: nodeSpec, vmid: vmidSpec };
const writeParams: ParamSpecs = {
  ...vmPath, digest: { type: 'string', optional: true, maxLength: 40 }, delete: { type: 'string', optional: true, format: configIdList },
  revert: { type: 'string', optional: true, format: configIdList }, skiplock: bool, force: bool,
};
const controlKeys = new Set(Object.keys(writeParams).concat('background_delay'));

export const qemuConfigRoutes: Route[] = [
  {
    method: 'GET', path: '/nodes/{node}/qemu', params: { node: nodeSpec, full: bool },
    handle: ({ params, sim }) => [...sim.cluster.vms.values()].filter((vm) => vm.node === params.node)
      .map((vm) => vmSummary(sim, vm)),
  },
  {
    method: 'GET', path: '/nodes/{node}/qemu/{vmid}/config', params: { ...vmPath, current: bool, snapshot: str },
    handle: (request) => {
      const vm = requestedVm(request);
      const config = request.sim.cluster.visibleConfig(vm, isTrue(request.params.current));
      return { ...typedConfig(config), digest: request.sim.cluster.digest(vm) };
    },
  },
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/config', privilege: 'VM.Config.Options',
    params: { ...writeParams, background_delay: { type: 'integer', optional: true, minimum: 1, maximum: 30 } },
    patterns: configValueSpecs,
    handle: (request) => {
      const vm = requestedVm(request);
      return startTask(request, 'qmconfig', vm.vmid, async (task) => {
        await task.sleep(request.sim.durations.configMs);
        await underVmLock(request, vm.vmid, () => updateConfig(request, vm));
      });
    },
  },
  {
    method: 'PUT', path: '/nodes/{node}/qemu/{vmid}/config', privilege: 'VM.Config.Options', params: writeParams,
    patterns: configValueSpecs,
    handle: async (request) => {
      const vm = requestedVm(request);
      await underVmLock(request, vm.vmid, () => updateConfig(request, vm));
      return null;
    },
  },
  {
    method: 'GET', path: '/nodes/{node}/qemu/{vmid}/pending', params: vmPath,
    handle: (request) => pendingList(requestedVm(request)),
  },
  {
    method: 'PUT', path: '/nodes/{node}/qemu/{vmid}/unlink', privilege: 'VM.Config.Disk',
    params: { ...vmPath, idlist: { type: 'string', format: configIdList }, force: bool },
    handle: async (request) => {
      const vm = requestedVm(request);
      await underVmLock(request, vm.vmid, () => {
        assertUnlocked(vm);
        for (const key of request.params.idlist!.split(/[,;\s]+/).filter(Boolean)) {
          request.sim.cluster.removeConfigKey(vm, key, isTrue(request.params.force));
        }
      });
      return null;
    },
  },
];

/** qemu-server's update_vm: digest, lock, then each value and deletion, pending while the VM runs. */
function updateConfig(request: RouteRequest, vm: SimVm): void {
  const { params, sim } = request;
  if (params.digest && params.digest !== sim.cluster.digest(vm)) {
    throw new TaskError(configModified);
  }
  assertUnlocked(vm, isTrue(params.skiplock));
  for (const key of (params.revert ?? '').split(/[,;\s]+/).filter(Boolean)) {
    delete vm.pending[key];
    vm.pendingDelete.delete(key);
  }
  for (const [key, raw] of Object.entries(params)) {
    if (controlKeys.has(key)) continue;
    const value = storedValue(request, vm, key, raw);
    if (vm.running && !appliesWhileRunning(key)) {
      vm.pending[key] = value;
      vm.pendingDelete.delete(key);
    } else {
      const previous = vm.config[key];
      // A disk replaced by another volume is not lost: PVE moves the old one to unusedN.
      if (previous !== undefined && isDiskKey(key) && volumeOf(previous) !== volumeOf(value)) {
        sim.cluster.removeConfigKey(vm, key, false);
      }
      vm.config[key] = value;
    }
  }
  for (const key of (params.delete ?? '').split(/[,;\s]+/).filter(Boolean)) {
    if (vm.running && !appliesWhileRunning(key)) vm.pendingDelete.add(key);
    else sim.cluster.removeConfigKey(vm, key, isTrue(params.force));
  }
  sim.cluster.dropReattachedUnused(vm);
}

/** The value as PVE writes it to the config: disks allocated, MACs generated, everything printed canonically. */
function storedValue(request: RouteRequest, vm: SimVm, key: string, raw: string): string {
  const { cluster } = request.sim;
  if (!isDiskKey(key)) return writtenConfigValue(key, raw, () => cluster.newMac());
  const drive = parseProperties(raw, driveFormat);
  const file = drive.get('file')!;
  const cloudinit = /^([^:]+):cloudinit$/.exec(file);
  if (cloudinit) return printDrive(new Map([['file', `${cloudinit[1]}:vm-${vm.vmid}-cloudinit`], ['media', 'cdrom']]));
  const allocation = /^([^:]+):(\d+(?:\.\d+)?)$/.exec(file);
  if (allocation) {
    const sizeBytes = Math.round(Number(allocation[2]) * 1024 ** 3);
    const volume = cluster.allocateVolume({
      storage: allocation[1]!, node: vm.node, vmid: vm.vmid, sizeBytes, content: 'images',
    });
    drive.set('file', volume.volid);
    drive.set('size', formatSize(sizeBytes));
  } else {
    // An existing volume attached again (an unused disk, say): PVE states its real size (volume_size_info).
    const existing = cluster.volumes.get(file);
    if (existing?.content === 'images') drive.set('size', formatSize(existing.sizeBytes));
  }
  return printDrive(drive);
}

function pendingList(vm: SimVm): unknown[] {
  const keys = new Set([...Object.keys(vm.config), ...Object.keys(vm.pending), ...vm.pendingDelete]);
  return [...keys].sort().map((key) => ({
    key,
    ...(vm.config[key] !== undefined ? { value: typedValue(key, vm.config[key]) } : {}),
    ...(vm.pending[key] !== undefined ? { pending: typedValue(key, vm.pending[key]) } : {}),
    ...(vm.pendingDelete.has(key) ? { delete: 1 } : {}),
  }));
}

function typedConfig(config: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typedValue(key, value)]));
}

function typedValue(key: string, value: string): string | number {
  return numericConfigKeys.has(key) && /^-?\d+$/.test(value) ? Number(value) : value;
}

