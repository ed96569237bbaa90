import type { DesiredConfig } from '../../src/proxmox/encoding/config-write.ts';
import { managedTag, ownerMarker, ownerTag } from '../../src/proxmox/vm-ownership.ts';

export interface PodAddress {
  address: string;
  family: 4 | 6;
  /** Prefix length of the pool's network. */
  prefix: number;
  gateway: string;
  bridge: string;
  vlan: number | null;
  nameservers: string[];
}

export interface DesiredVmInput {
  pod: { id: string; name: string; cpu_cores: number; memory_mb: number; ssh_keys: readonly string[] };
  /** The bridge when the pod has no pool address. */
  templateBridge: string;
  addresses: readonly PodAddress[];
  /** `cicustom` user-data snippet of an app stack. */
  userDataVolid: string | null;
}

/**
 * The VM configuration a pod asks for, in the terms `planConfigWrite` compares against what Proxmox has: sizes,
 * ownership marks, cloud-init user, keys and network. The MAC is left to the write planner, which keeps the
 * current one.
 */
export function desiredVmConfig({ pod, templateBridge, addresses, userDataVolid }: DesiredVmInput): DesiredConfig {
  const v4 = addresses.find((a) => a.family === 4);
  const v6 = addresses.find((a) => a.family === 6);
  const network = v4 ?? v6;
  const ipconfig = [
    v4 ? `ip=${v4.address}/${v4.prefix},gw=${v4.gateway}` : 'ip=dhcp',
    ...(v6 ? [`ip6=${v6.address}/${v6.prefix},gw6=${v6.gateway}`] : []),
  ].join(',');
  const nameservers = [...new Set(addresses.flatMap((a) => a.nameservers))];
  return {
    name: pod.name,
    cores: pod.cpu_cores,
    memory: pod.memory_mb,
    tags: [managedTag, ownerTag(pod.id)],
    description: ownerMarker(pod.id),
    agent: '1',
    ciuser: 'cloudpods',
    sshkeys: pod.ssh_keys.length > 0 ? pod.ssh_keys : null,
    ipconfig0: ipconfig,
    nameserver: nameservers.length > 0 ? nameservers.join(' ') : null,
    net0: `virtio,bridge=${network?.bridge ?? templateBridge}${network?.vlan ? `,tag=${network.vlan}` : ''}`,
    cicustom: userDataVolid ? `user=${userDataVolid}` : null,
  };
}
