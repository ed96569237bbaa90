/**
 * Task ids as pve-common's PVE::Tools writes and reads them:
 * `sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", node, pid, pstart, starttime, type, id, user)`. pstart may grow a
 * ninth hex digit after 497 days of uptime, which upid_decode allows.
 */

export interface UpidFields {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const upidPattern = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

export function encodeUpid(task: UpidFields): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `UPID:${task.node}:${hex(task.pid)}:${hex(task.pstart)}:${hex(task.starttime)}:${task.type}:${task.id}:` +
    `${task.user}:`;
}

/** The fields of a UPID, or undefined for a text upid_decode would refuse. */
export function decodeUpid(upid: string): UpidFields | undefined {
  const match = upidPattern.exec(upid);
  if (!match) return undefined;
  return {
    node: match[1]!, pid: parseInt(match[3]!, 16), pstart: parseInt(match[4]!, 16),
    starttime: parseInt(match[5]!, 16), type: match[6]!, id: match[7]!, user: match[8]!,
  };
}
