/** Where a new pod's VM goes: pure, from one look at the cluster and what pods already hold. */

export interface NodeCandidate {
  node: string;
  online: boolean;
  /** Bytes free on the pod's storage pool on this node (for shared storage, the pool's free bytes). */
  storageAvailBytes: number | undefined;
  maxMemBytes: number;
  /** Memory promised to pods already placed here (MiB), which running VMs have not all claimed yet. */
  committedMemMb: number;
  /** Pods placed here and still being provisioned: the node's clone queue. */
  provisioning: number;
}

export interface PlacementRequest {
  /** Chosen by the tenant; it must be usable, or the pod waits with a condition. */
  requestedNode: string | null;
  /** The template's preferred node. */
  defaultNode: string | null;
  /** The node the template VM lives on; without shared storage it is the only possible one. */
  templateNode: string;
  /** Whether the template's disks are on shared storage (a clone may then target any node). */
  crossNodeClone: boolean;
  diskGiB: number;
  memoryMb: number;
}

export type Placement = { ok: true; node: string } | { ok: false; reason: 'NodeUnavailable' | 'NoCapacity'; message: string };

const GiB = 1024 ** 3;

export function choosePlacement(request: PlacementRequest, candidates: readonly NodeCandidate[]): Placement {
  const fits = (c: NodeCandidate) => c.online && (c.storageAvailBytes ?? 0) >= request.diskGiB * GiB;
  const reachable = candidates.filter((c) => request.crossNodeClone || c.node === request.templateNode);
  if (request.requestedNode) {
    const wanted = reachable.find((c) => c.node === request.requestedNode);
    if (!wanted) {
      return { ok: false, reason: 'NodeUnavailable', message: `node ${request.requestedNode} cannot take a clone of the template` };
    }
    if (!wanted.online) return { ok: false, reason: 'NodeUnavailable', message: `node ${request.requestedNode} is offline` };
    return fits(wanted) ? { ok: true, node: wanted.node }
      : { ok: false, reason: 'NoCapacity', message: `node ${wanted.node} has no room for ${request.diskGiB} GiB` };
  }
  const usable = reachable.filter(fits);
  const preferred = usable.find((c) => c.node === request.defaultNode);
  if (preferred) return { ok: true, node: preferred.node };
  // Least loaded: the shortest clone queue (clones run a few at a time per node, so a burst spreads evenly), then
  // the most memory left after what is promised to pods already placed there.
  const ranked = usable.map((c) => ({ c, free: c.maxMemBytes / (1024 * 1024) - c.committedMemMb - request.memoryMb }))
    .sort((a, b) => a.c.provisioning - b.c.provisioning || b.free - a.free || a.c.node.localeCompare(b.c.node));
  if (ranked[0]) return { ok: true, node: ranked[0].c.node };
  return { ok: false, reason: reachable.some((c) => c.online) ? 'NoCapacity' : 'NodeUnavailable',
    message: reachable.some((c) => c.online) ? `no node has ${request.diskGiB} GiB free for the pod's disk`
      : 'no node that can take a clone of the template is online' };
}

/** The lowest VMID of the range that neither a pod row nor any VM of the cluster holds. */
export function chooseVmid(range: { min: number; max: number }, taken: ReadonlySet<number>): number | undefined {
  for (let vmid = range.min; vmid <= range.max; vmid++) if (!taken.has(vmid)) return vmid;
  return undefined;
}
