import { parameterErrors } from '../api-error.ts';
import { diskSize, type SimVm } from '../cluster.ts';
import { isDiskKey } from '../format/config-value.ts';
import { vmidTaken } from '../messages.ts';
import { optional, vmidSpec } from '../params.ts';
import type { Route, SimContext } from '../router.ts';

/** /cluster/resources, /cluster/nextid, /nodes and /version. */

export const clusterRoutes: Route[] = [
  {
    method: 'GET', path: '/cluster/resources',
    params: { type: { type: 'string', optional: true, enum: ['vm', 'storage', 'node', 'sdn'] } },
    handle: ({ params, sim }) => {
      const wanted = params.type;
      return [
        ...(!wanted || wanted === 'node' ? nodeResources(sim) : []),
        ...(!wanted || wanted === 'vm' ? vmResources(sim) : []),
        ...(!wanted || wanted === 'storage' ? storageResources(sim) : []),
      ];
    },
  },
  {
    method: 'GET', path: '/cluster/nextid', params: { vmid: optional(vmidSpec) },
    handle: ({ params, sim }) => {
      if (params.vmid !== undefined) {
        const vmid = Number(params.vmid);
        if (sim.cluster.vms.has(vmid)) throw parameterErrors({ vmid: vmidTaken(vmid) });
        return String(vmid);
      }
      // A string, as Perl leaves it; nothing is reserved.
      return String(sim.cluster.nextFreeVmid());
    },
  },
  {
    method: 'GET', path: '/nodes', params: {},
    handle: ({ sim }) => [...sim.cluster.nodes.values()].map((node) => ({
      node: node.name, status: node.online ? 'online' : 'offline', type: 'node', id: `node/${node.name}`,
      ...(node.online ? { cpu: 0.03, maxcpu: 16, mem: 8 * 1024 ** 3, maxmem: 64 * 1024 ** 3, uptime: 86_400, level: '' } : {}),
    })),
  },
  {
    method: 'GET', path: '/version', params: {},
    handle: ({ sim }) => ({ version: sim.cluster.options.version, release: sim.cluster.options.version.split('.').slice(0, 2).join('.'),
      repoid: 'cloudpods-sim' }),
  },
  { method: 'GET', path: '/cluster/status', params: {}, handle: ({ sim }) => clusterStatus(sim) },
];

/** What `/cluster/resources?type=vm` shows of one VM. */
export function vmSummary(sim: SimContext, vm: SimVm): Record<string, unknown> {
  const online = sim.cluster.nodes.get(vm.node)?.online ?? false;
  const config = vm.config;
  const maxdisk = Object.entries(config).filter(([key, value]) => isDiskKey(key) && !key.startsWith('unused')
    && !value.includes('media=cdrom')).reduce((sum, [, value]) => sum + diskSize(value), 0);
  return {
    vmid: vm.vmid, name: config.name ?? `VM ${vm.vmid}`, status: online ? (vm.running ? 'running' : 'stopped') : 'unknown',
    template: config.template === '1' ? 1 : 0, ...(config.tags ? { tags: config.tags } : {}),
    ...(config.lock ? { lock: config.lock } : {}), maxmem: Number(config.memory?.replace(/^current=/, '') ?? 512) * 1024 ** 2,
    maxdisk, cpus: Number(config.cores ?? 1) * Number(config.sockets ?? 1), cpu: vm.running ? 0.01 : 0,
    mem: vm.running ? 256 * 1024 ** 2 : 0, uptime: vm.running && vm.startedAt ? Math.floor((Date.now() - vm.startedAt) / 1000) : 0,
    diskread: 0, diskwrite: 0, netin: 0, netout: 0,
  };
}

function vmResources(sim: SimContext): unknown[] {
  return [...sim.cluster.vms.values()].sort((a, b) => a.vmid - b.vmid).map((vm) => ({
    id: `qemu/${vm.vmid}`, type: 'qemu', node: vm.node, ...vmSummary(sim, vm),
  }));
}

function nodeResources(sim: SimContext): unknown[] {
  return [...sim.cluster.nodes.values()].map((node) => ({
    id: `node/${node.name}`, type: 'node', node: node.name, status: node.online ? 'online' : 'offline',
    maxcpu: 16, maxmem: 64 * 1024 ** 3, maxdisk: 100 * 1024 ** 3, ...(node.online ? { cpu: 0.03, mem: 8 * 1024 ** 3, uptime: 86_400 } : {}),
  }));
}

function storageResources(sim: SimContext): unknown[] {
  return [...sim.cluster.nodes.values()].flatMap((node) => sim.cluster.storages.map((storage) => ({
    id: `storage/${node.name}/${storage.id}`, type: 'storage', node: node.name, storage: storage.id,
    status: node.online ? 'available' : 'unknown', plugintype: storage.type, content: storage.content.join(','),
    shared: storage.shared ? 1 : 0, maxdisk: storage.capacityBytes, disk: sim.cluster.usedBytes(storage.id, node.name),
  })));
}

function clusterStatus(sim: SimContext): unknown[] {
  const nodes = [...sim.cluster.nodes.values()];
  return [
    { id: 'cluster', type: 'cluster', name: sim.cluster.options.clusterName, nodes: nodes.length, quorate: 1, version: 1 },
    ...nodes.map((node, i) => ({ id: `node/${node.name}`, type: 'node', name: node.name, nodeid: i + 1,
      online: node.online ? 1 : 0, local: i === 0 ? 1 : 0, ip: '127.0.0.1', level: '' })),
  ];
}

