import type { SimulatorOverrides } from './simulator.ts';

const GiB = 1024 ** 3;

/**
 * The cluster CloudPods is developed and tested against: three nodes with local thin pools for pod disks, a
 * `local` directory for snippets and backups, and the templates on shared storage (as production clusters keep
 * them), so a clone can target any node. The template VMIDs match the dev catalogue (src/tenancy/seed.ts).
 */
export function platformCluster(overrides: SimulatorOverrides = {}): SimulatorOverrides {
  return {
    nodes: 3,
    storages: [
      { id: 'local', type: 'dir', content: ['iso', 'vztmpl', 'backup', 'snippets'], shared: false, capacityBytes: 100 * GiB },
      { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], shared: false, capacityBytes: 2048 * GiB },
      { id: 'templates', type: 'nfs', content: ['images'], shared: true, capacityBytes: 500 * GiB },
    ],
    templates: [
      { vmid: 9000, name: 'debian-12', node: 'pve1', storage: 'templates', diskGiB: 4, tags: ['template', 'debian'] },
      { vmid: 9001, name: 'ubuntu-24-04', node: 'pve1', storage: 'templates', diskGiB: 4, tags: ['template', 'ubuntu'] },
    ],
    ...overrides,
  };
}
