/** How a simulated cluster looks and how long its work takes. Tests shorten every duration. */

export interface SimDurations {
  cloneMs: number;
  startMs: number;
  stopMs: number;
  shutdownMs: number;
  destroyMs: number;
  resizeMs: number;
  configMs: number;
  vzdumpMs: number;
  deleteVolumeMs: number;
  /** From start until the guest agent answers and reports an address. */
  agentStartMs: number;
  /** How long an operation waits for a VM's lock file (PVE: 10 s; clone waits at most 1 s). */
  lockTimeoutMs: number;
  /** Longest a shutdown waits for a missing guest agent before giving up (PVE waits for `timeout`). */
  shutdownHangMs: number;
}

export interface SimStorageSpec {
  id: string;
  type: 'lvmthin' | 'dir' | 'nfs' | 'rbd';
  /** PVE content types: images, rootdir, iso, vztmpl, backup, snippets. */
  content: string[];
  shared: boolean;
  /** Per node for local storage, in total for shared storage. */
  capacityBytes: number;
}

export interface SimTemplateSpec {
  vmid: number;
  name: string;
  node: string;
  storage: string;
  diskGiB: number;
  memoryMiB?: number;
  cores?: number;
  tags?: string[];
}

export interface SimTokenSpec {
  /** `USER@REALM!TOKENID` */
  id: string;
  secret: string;
  /** Read-only tokens get 403 `Permission check failed` on every change. */
  readOnly?: boolean;
}

export interface SimOptions {
  nodes: number;
  nodeNamePrefix: string;
  storages: SimStorageSpec[];
  templates: SimTemplateSpec[];
  tokens: SimTokenSpec[];
  durations: SimDurations;
  /** The range nextid allocates from (`next-id` cluster option). */
  nextIdLower: number;
  clusterName: string;
  /** PVE version reported by /version. */
  version: string;
  host: string;
  httpsPort: number;
  sshPort: number;
  sshUser: string;
  /** OpenSSH public key lines allowed to log in over SSH; a key pair is generated when empty. */
  authorizedKeys: string[];
  /** Where uploaded snippets are written; a temporary directory when unset. */
  snippetsDir?: string;
  /** A file keeping the cluster across restarts (src/sim/proxmox/state-file.ts); unset: in memory only. */
  stateFile?: string;
}

const GiB = 1024 ** 3;

export const defaultDurations: SimDurations = {
  cloneMs: 4000, startMs: 1500, stopMs: 500, shutdownMs: 2000, destroyMs: 1500, resizeMs: 500, configMs: 300,
  vzdumpMs: 5000, deleteVolumeMs: 300, agentStartMs: 8000, lockTimeoutMs: 10_000, shutdownHangMs: 60_000,
};

/** Durations short enough for tests on a small machine, long enough that clones are seen in flight. */
export const fastDurations: SimDurations = {
  cloneMs: 150, startMs: 40, stopMs: 20, shutdownMs: 40, destroyMs: 40, resizeMs: 20, configMs: 20,
  vzdumpMs: 80, deleteVolumeMs: 10, agentStartMs: 150, lockTimeoutMs: 300, shutdownHangMs: 300,
};

export function simOptions(overrides: Partial<Omit<SimOptions, 'durations'>> & { durations?: Partial<SimDurations> } = {}): SimOptions {
  const { durations, ...rest } = overrides;
  const nodes = rest.nodes ?? 3;
  const prefix = rest.nodeNamePrefix ?? 'pve';
  return {
    nodes,
    nodeNamePrefix: prefix,
    storages: [
      { id: 'local', type: 'dir', content: ['iso', 'vztmpl', 'backup', 'snippets'], shared: false, capacityBytes: 100 * GiB },
      { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], shared: false, capacityBytes: 500 * GiB },
    ],
    templates: [
      { vmid: 9000, name: 'debian-12', node: `${prefix}1`, storage: 'local-lvm', diskGiB: 4, tags: ['template', 'debian'] },
      { vmid: 9001, name: 'ubuntu-24-04', node: `${prefix}1`, storage: 'local-lvm', diskGiB: 4, tags: ['template', 'ubuntu'] },
    ],
    tokens: [],
    nextIdLower: 100,
    clusterName: 'cloudpods-sim',
    version: '9.1.3',
    host: '127.0.0.1',
    httpsPort: 0,
    sshPort: 0,
    sshUser: 'root',
    authorizedKeys: [],
    ...rest,
    durations: { ...defaultDurations, ...durations },
  };
}
