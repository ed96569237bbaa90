import type { ProxmoxClient } from './client.ts';
import { NotFoundError } from './errors.ts';
import { parseUpid } from './upid.ts';

/** What a task recorded by a controller has come to: still running, finished well, or failed with PVE's exit text. */
export type TaskOutcome =
  | { state: 'running'; type: string }
  | { state: 'ok'; type: string }
  | { state: 'failed'; type: string; message: string };

/** Reads a task's status. A task Proxmox no longer knows counts as finished well (its log was rotated away). */
export async function taskOutcome(proxmox: ProxmoxClient, upid: string): Promise<TaskOutcome> {
  const type = parseUpid(upid).type;
  let status;
  try {
    status = await proxmox.taskStatus(upid);
  } catch (error) {
    if (error instanceof NotFoundError) return { state: 'ok', type };
    throw error;
  }
  if (status.status === 'running') return { state: 'running', type };
  const exit = status.exitstatus ?? 'unexpected status';
  if (exit === 'OK' || exit.startsWith('WARNINGS')) return { state: 'ok', type };
  return { state: 'failed', type, message: exit };
}
