import { apiPath, type ProxmoxApi } from './api.ts';
import { classifyExitStatus } from './classify.ts';
import { NotFoundError, ProxmoxError, TaskFailedError, TransientError } from './errors.ts';
import type { TaskStatus } from './types.ts';
import { parseUpid } from './upid.ts';

/**
 * Waiting for a task: poll its status on the node named in the UPID until it stops. `OK` and `WARNINGS: n` are
 * success; anything else is a TaskFailedError with the exit status, its meaning and the tail of the log. The UPID
 * is all the state there is, so a waiter after a restart picks up exactly where the old one was.
 */

export interface WaitOptions {
  pollIntervalMs?: number;
  /** Give up (TransientError) after this long; the task itself keeps running. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Log lines kept in a TaskFailedError. */
  logTailLines?: number;
  /** A task may be invisible for a moment after submit ("no such task"): tolerated this long. */
  visibilityGraceMs?: number;
}

export interface TaskResult {
  upid: string;
  exitStatus: string;
  /** The n of `WARNINGS: n`; 0 for `OK`. */
  warnings: number;
}

export type TaskOutcome = { ok: true; warnings: number } | { ok: false };

/** Pure: what an exit status means. */
export function taskOutcome(exitStatus: string): TaskOutcome {
  if (exitStatus === 'OK') return { ok: true, warnings: 0 };
  const warnings = /^WARNINGS: (\d+)$/.exec(exitStatus);
  return warnings ? { ok: true, warnings: Number(warnings[1]) } : { ok: false };
}

export async function waitForTask(api: ProxmoxApi, upid: string, options: WaitOptions = {}): Promise<TaskResult> {
  const { pollIntervalMs = 1000, timeoutMs = 30 * 60_000, signal, logTailLines = 50, visibilityGraceMs = 10_000 } = options;
  const { node } = parseUpid(upid);
  const started = Date.now();
  for (;;) {
    signal?.throwIfAborted();
    let status: TaskStatus | undefined;
    try {
      status = await api.call<TaskStatus>('GET', apiPath`/nodes/${node}/tasks/${upid}/status`);
    } catch (error) {
      const invisibleYet = error instanceof NotFoundError && Date.now() - started < visibilityGraceMs;
      if (!invisibleYet && !(error instanceof TransientError)) throw error;
    }
    if (status?.status === 'stopped') {
      const exitStatus = status.exitstatus ?? 'unexpected status';
      const outcome = taskOutcome(exitStatus);
      if (outcome.ok) return { upid, exitStatus, warnings: outcome.warnings };
      const tail = await taskLogTail(api, upid, logTailLines).catch(() => []);
      throw new TaskFailedError(upid, exitStatus, tail, classifyExitStatus(exitStatus));
    }
    if (Date.now() - started >= timeoutMs) {
      throw new TransientError(`task ${upid} still running after ${timeoutMs} ms`);
    }
    await pause(Math.min(pollIntervalMs, Math.max(0, timeoutMs - (Date.now() - started))), signal);
  }
}

/** The last `lines` lines of a task's log, oldest first. */
export async function taskLogTail(api: ProxmoxApi, upid: string, lines = 50): Promise<string[]> {
  const { node } = parseUpid(upid);
  const path = apiPath`/nodes/${node}/tasks/${upid}/log`;
  const first = await api.callWithTotal<Array<{ n: number; t: string }>>('GET', path, { start: 0, limit: lines });
  const total = first.total ?? first.data.length;
  if (total <= lines) return first.data.map((line) => line.t);
  const tail = await api.call<Array<{ n: number; t: string }>>('GET', path, { start: total - lines, limit: lines });
  return tail.map((line) => line.t);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason instanceof Error ? signal!.reason : new ProxmoxError('waiting for the task was aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
