/**
 * Shapes of the answers the client reads, as the PVE 8/9 schema declares them. Perl typing leaks (numbers as
 * strings, booleans as 0/1), so the client normalises the fields controllers decide on.
 */

export interface ClusterResource {
  id: string;
  type: string;
  node?: string;
  vmid?: number;
  name?: string;
  status?: string;
  /** 1 for templates. */
  template?: number;
  /** `;`-separated. */
  tags?: string;
  lock?: string;
  hastate?: string;
  pool?: string;
  storage?: string;
  /** For storages: the content types it may hold, `,`-separated (`images` for VM disks). */
  content?: string;
  maxmem?: number;
  maxdisk?: number;
  disk?: number;
  mem?: number;
}

export interface NodeSummary {
  node: string;
  status: 'online' | 'offline' | 'unknown';
  maxcpu?: number;
  maxmem?: number;
  mem?: number;
  uptime?: number;
}

export interface VmSummary {
  vmid: number;
  name?: string;
  status: string;
  template?: number;
  tags?: string;
  lock?: string;
  maxmem?: number;
  maxdisk?: number;
  cpus?: number;
  uptime?: number;
}

/** Config values as PVE returns them (mostly strings, some numbers), with the digest to send back on writes. */
export type VmConfig = Record<string, string | number> & { digest: string };

export interface VmStatus {
  vmid: number;
  status: 'running' | 'stopped';
  qmpstatus?: string;
  name?: string;
  lock?: string;
  agent?: number;
  uptime?: number;
  ha?: { managed: number };
}

export interface PendingChange {
  key: string;
  value?: string | number;
  pending?: string | number;
  /** 1 (or 2, forced) when the key is to be deleted. */
  delete?: number;
}

export interface TaskStatus {
  upid: string;
  node: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  type: string;
  id: string;
  user: string;
  starttime: number;
}

export interface TaskSummary {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  starttime: number;
  /** The exit status, once stopped. */
  status?: string;
  endtime?: number;
}

export interface StorageStatus {
  type: string;
  content: string;
  active?: number;
  enabled?: number;
  shared?: number;
  total?: number;
  used?: number;
  /** Bytes free: check it before allocating. */
  avail?: number;
}

export interface StorageContentItem {
  volid: string;
  content: string;
  format: string;
  size: number;
  vmid?: number;
  ctime?: number;
  notes?: string;
  protected?: number;
}

export interface GuestIpAddress {
  'ip-address': string;
  'ip-address-type': 'ipv4' | 'ipv6';
  prefix: number;
}

export interface GuestNetworkInterface {
  name: string;
  'hardware-address'?: string;
  'ip-addresses'?: GuestIpAddress[];
}
