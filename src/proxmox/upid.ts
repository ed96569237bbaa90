/**
 * A task id: `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:` with hex pid, pstart and starttime.
 * The node is where the task runs and the only place its status can be read.
 */
export interface Upid {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  /** The object the task works on; for qmclone the source VMID. */
  id: string;
  user: string;
}

const upidPattern = /^UPID:([a-zA-Z0-9][a-zA-Z0-9.-]*):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

export function parseUpid(upid: string): Upid {
  const match = upidPattern.exec(upid);
  if (!match) throw new Error(`not a Proxmox task id: ${JSON.stringify(upid)}`);
  const [, node, pid, pstart, starttime, type, id, user] = match as unknown as string[];
  return {
    upid, node: node!, pid: parseInt(pid!, 16), pstart: parseInt(pstart!, 16), starttime: parseInt(starttime!, 16),
    type: type!, id: id!, user: user!,
  };
}

export function isUpid(value: unknown): value is string {
  return typeof value === 'string' && upidPattern.test(value);
}

export function formatUpid(task: Omit<Upid, 'upid'>): string {
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  return `UPID:${task.node}:${hex(task.pid, 8)}:${hex(task.pstart, 8)}:${hex(task.starttime, 8)}:${task.type}:` +
    `${task.id}:${task.user}:`;
}
