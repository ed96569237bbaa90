import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { failure, TaskError } from '../api-error.ts';
import { diskSize, volumeOf } from '../cluster.ts';
import { isDiskKey } from '../format/config-value.ts';
import { vmLocked } from '../messages.ts';
import type { SimStorageSpec } from '../options.ts';
import { bool, int, isTrue, nodeSpec, optional, storageSpec, str, vmidSpec, type ParamSpecs } from '../params.ts';
import type { Route, RouteRequest } from '../router.ts';
import { startTask } from './common.ts';

/** Storage status and content, volume deletion and vzdump backups. */

const storagePath: ParamSpecs = { node: nodeSpec, storage: storageSpec };
const contentTypes = ['images', 'rootdir', 'iso', 'vztmpl', 'backup', 'snippets', 'import'];

export const storageRoutes: Route[] = [
  {
    method: 'GET', path: '/nodes/{node}/storage',
    params: { node: nodeSpec, content: str, storage: optional(storageSpec), enabled: bool, format: bool, target: optional(nodeSpec) },
    handle: (request) => request.sim.cluster.storages
      .filter((s) => (!request.params.storage || s.id === request.params.storage)
        && (!request.params.content || request.params.content.split(',').some((c) => s.content.includes(c))))
      .map((s) => ({ storage: s.id, ...storageStatus(request, s) })),
  },
  {
    method: 'GET', path: '/nodes/{node}/storage/{storage}/status', params: storagePath,
    handle: (request) => storageStatus(request, request.sim.cluster.requireStorage(request.params.storage!)),
  },
  {
    method: 'GET', path: '/nodes/{node}/storage/{storage}/content',
    params: { ...storagePath, content: { type: 'string', optional: true, enum: contentTypes }, vmid: optional(vmidSpec) },
    handle: listContent,
  },
  {
    method: 'DELETE', path: '/nodes/{node}/storage/{storage}/content/{volume}', privilege: 'Datastore.Allocate',
    params: { node: nodeSpec, storage: optional(storageSpec), volume: { type: 'string' }, delay: int },
    handle: deleteVolume,
  },
  {
    method: 'POST', path: '/nodes/{node}/vzdump', privilege: 'VM.Backup',
    params: {
      node: nodeSpec, vmid: { type: 'string', optional: true, format: (v) => (/^\d+(?:[,;\s]+\d+)*$/.test(v) ? undefined : 'invalid format - value does not look like a valid VMID list') },
      storage: optional(storageSpec), mode: { type: 'string', optional: true, enum: ['snapshot', 'suspend', 'stop'] },
      compress: { type: 'string', optional: true, enum: ['0', '1', 'gzip', 'lzo', 'zstd'] },
      'notes-template': { type: 'string', optional: true, maxLength: 1024 }, protected: bool, remove: bool,
      'prune-backups': str, all: bool, quiet: bool, stdout: bool, bwlimit: int, zstd: int,
    },
    handle: vzdump,
  },
];

function storageStatus(request: RouteRequest, storage: SimStorageSpec): Record<string, unknown> {
  const used = request.sim.cluster.usedBytes(storage.id, request.params.node!);
  return {
    type: storage.type, content: storage.content.join(','), active: 1, enabled: 1, shared: storage.shared ? 1 : 0,
    total: storage.capacityBytes, used, avail: storage.capacityBytes - used,
  };
}

function listContent(request: RouteRequest): unknown[] {
  const { params, sim } = request;
  const storage = sim.cluster.requireStorage(params.storage!);
  const wantVmid = params.vmid === undefined ? undefined : Number(params.vmid);
  const volumes = [...sim.cluster.volumes.values()]
    .filter((v) => v.storage === storage.id && (storage.shared || v.node === params.node))
    .filter((v) => (!params.content || v.content === params.content) && (wantVmid === undefined || v.vmid === wantVmid))
    .map((v) => ({
      volid: v.volid, content: v.content, format: v.format, size: v.sizeBytes, vmid: v.vmid, ctime: v.ctime,
      ...(v.notes !== undefined ? { notes: v.notes } : {}), ...(v.protected ? { protected: 1 } : {}),
      ...(v.content === 'backup' ? { subtype: 'qemu' } : {}),
    }));
  const snippets = storage.content.includes('snippets') && (!params.content || params.content === 'snippets') && wantVmid === undefined
    ? listSnippets(sim.snippetsDir, storage.id) : [];
  return [...volumes, ...snippets];
}

function listSnippets(dir: string, storage: string): unknown[] {
  return readdirSync(dir).filter((name) => !name.startsWith('.')).map((name) => {
    const stat = statSync(path.join(dir, name));
    return { volid: `${storage}:snippets/${name}`, content: 'snippets', format: 'snippet', size: stat.size,
      ctime: Math.floor(stat.mtimeMs / 1000) };
  });
}

function deleteVolume(request: RouteRequest): string {
  const { params, sim } = request;
  const volid = params.volume!.includes(':') ? params.volume! : `${params.storage}:${params.volume}`;
  const volume = sim.cluster.volumes.get(volid);
  if (!volume) throw failure(`volume '${volid}' does not exist`);
  if (volume.protected) throw failure(`volume '${volid}' is protected`);
  const owner = sim.cluster.vms.get(volume.vmid);
  if (volume.content === 'images' && owner && sim.cluster.referencedVolumes(owner.config).includes(volid)) {
    throw failure(`unable to delete '${volid}' - volume is still in use (referenced by VM ${owner.vmid})`);
  }
  return startTask(request, 'imgdel', volid, async (task) => {
    await task.sleep(sim.durations.deleteVolumeMs);
    sim.cluster.freeVolume(volid);
  });
}

function vzdump(request: RouteRequest): string {
  const { params, sim } = request;
  const storageId = params.storage ?? 'local';
  sim.cluster.requireStorage(storageId);
  const vmids = (params.vmid ?? '').split(/[,;\s]+/).filter(Boolean).map(Number);
  if (vmids.length === 0 && !isTrue(params.all)) throw failure('no VMs selected for backup');
  return startTask(request, 'vzdump', vmids.length === 1 ? vmids[0]! : '', async (task) => {
    let failed = false;
    for (const vmid of vmids) {
      try {
        await backupOne(request, task, vmid, storageId);
      } catch (error) {
        failed = true;
        task.log(`ERROR: Backup of VM ${vmid} failed - ${(error as Error).message}`);
      }
    }
    if (failed) throw new TaskError('job errors');
  });
}

async function backupOne(request: RouteRequest, task: { log(line: string): void; sleep(ms: number): Promise<void> },
  vmid: number, storageId: string): Promise<void> {
  const { params, sim } = request;
  const vm = sim.cluster.vms.get(vmid);
  if (!vm || vm.node !== params.node) throw new TaskError(`unable to find VM ${vmid} on node '${params.node}'`);
  if (vm.config.lock) throw new TaskError(vmLocked(vm.config.lock));
  task.log(`INFO: Starting Backup of VM ${vmid} (qemu)`);
  vm.config.lock = 'backup';
  try {
    await task.sleep(sim.durations.vzdumpMs);
    const diskBytes = Object.entries(vm.config).filter(([key, value]) => isDiskKey(key) && volumeOf(value) && !value.includes('media=cdrom'))
      .reduce((sum, [, value]) => sum + diskSize(value), 0);
    const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '-').slice(0, 19);
    const extension = params.compress === 'zstd' ? '.vma.zst' : params.compress === 'gzip' || params.compress === '1' ? '.vma.gz' : '.vma';
    const volume = sim.cluster.allocateVolume({
      storage: storageId, node: vm.node, vmid, content: 'backup', sizeBytes: Math.ceil(diskBytes / 8),
      name: `backup/vzdump-qemu-${vmid}-${stamp}${extension}`, format: extension.slice(1),
      notes: expandNotes(params['notes-template'], vm.config.name ?? '', vmid, vm.node, sim.cluster.options.clusterName),
      protected: isTrue(params.protected),
    });
    task.log(`INFO: creating vzdump archive '${volume.volid}'`);
    prune(request, vmid, storageId, task);
    task.log(`INFO: Finished Backup of VM ${vmid}`);
  } finally {
    delete vm.config.lock;
  }
}

/** `prune-backups` keep-last=N (with `remove`, default 1): older unprotected backups of the guest are removed. */
function prune(request: RouteRequest, vmid: number, storageId: string, task: { log(line: string): void }): void {
  const keepLast = /keep-last=(\d+)/.exec(request.params['prune-backups'] ?? '')?.[1];
  if (keepLast === undefined || request.params.remove === '0') return;
  const backups = [...request.sim.cluster.volumes.values()]
    .filter((v) => v.storage === storageId && v.vmid === vmid && v.content === 'backup' && !v.protected)
    .sort((a, b) => b.volid.localeCompare(a.volid));
  for (const old of backups.slice(Number(keepLast))) {
    request.sim.cluster.freeVolume(old.volid);
    task.log(`INFO: prune older backup: ${old.volid}`);
  }
}

/** vzdump's notes template: {{guestname}}, {{vmid}}, {{node}}, {{cluster}}; notes stay empty without one. */
function expandNotes(template: string | undefined, guestname: string, vmid: number, node: string, cluster: string): string | undefined {
  if (template === undefined) return undefined;
  return template.replace(/\{\{(guestname|vmid|node|cluster)\}\}/g, (_, name: string) =>
    ({ guestname, vmid: String(vmid), node, cluster })[name as 'guestname']);
}
