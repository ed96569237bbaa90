import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Servers we spawn (the embedded PostgreSQL, pdns_server) outlive a parent that dies without stopping them
 * (SIGKILL, the OOM killer): they keep their data directory, and PostgreSQL then refuses to start a second
 * server on it. Each server's directory records its owner's pid; at the next start, a server still running on
 * the directory is a leftover unless that owner is alive and still its parent (then another process really
 * uses the directory, and we refuse rather than take it away). Linux only (/proc); elsewhere nothing is found.
 */

const ownerFileName = 'owner.pid';

/** Writes this process's pid as the owner of the servers running on `dir`. */
export async function recordOwner(dir: string): Promise<void> {
  await fs.writeFile(path.join(dir, ownerFileName), `${process.pid}\n`);
}

/**
 * Stops every process whose arguments `matches` says runs on `dir` and whose owner is gone: SIGTERM-like `signal`
 * first, SIGKILL when it has not exited after `timeoutMs`. Throws, stopping nothing, when the owner is alive.
 */
export async function stopLeftoverServers(dir: string, what: string, matches: (argv: string[]) => boolean,
  { signal = 'SIGTERM', timeoutMs = 30_000 }: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<number[]> {
  const found = (await listProcesses()).filter((p) => matches(p.argv));
  if (found.length === 0) return [];
  const owner = Number((await fs.readFile(path.join(dir, ownerFileName), 'utf8').catch(() => '')).trim());
  const owned = found.find((p) => p.ppid === owner);
  if (owned) {
    throw new Error(`${what} on ${dir} is still in use by process ${owner} (pid ${owned.pid}): stop that process first`);
  }
  await Promise.all(found.map((p) => stopProcess(p.pid, signal, timeoutMs)));
  return found.map((p) => p.pid);
}

interface ProcessEntry {
  pid: number;
  ppid: number;
  state: string;
  argv: string[];
}

async function listProcesses(): Promise<ProcessEntry[]> {
  const entries = await fs.readdir('/proc').catch(() => [] as string[]);
  const processes = await Promise.all(entries.filter((name) => /^\d+$/.test(name)).map(async (name) => {
    try {
      const [cmdline, stat] = await Promise.all([fs.readFile(`/proc/${name}/cmdline`, 'utf8'), fs.readFile(`/proc/${name}/stat`, 'utf8')]);
      const { state, ppid } = parseStat(stat);
      return { pid: Number(name), ppid, state, argv: cmdline.split('\0').filter(Boolean) };
    } catch {
      return undefined; // exited meanwhile, or not ours to read
    }
  }));
  return processes.filter((p): p is ProcessEntry => p !== undefined && p.pid !== process.pid && p.state !== 'Z');
}

/** `/proc/<pid>/stat` is "pid (comm) state ppid ...", and comm may hold spaces or parentheses. */
function parseStat(stat: string): { state: string; ppid: number } {
  const [state = '', ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state, ppid: Number(ppid) };
}

/** False once it is gone, or a zombie (exited, waiting for a parent that may never reap it). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && parseStat(stat).state !== 'Z';
}

async function stopProcess(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let sent: NodeJS.Signals = signal;
  signalProcess(pid, signal);
  // After SIGKILL only an uninterruptible wait can hold it; give up then rather than hang the start.
  while (await isRunning(pid) && Date.now() < deadline + 5000) {
    if (sent !== 'SIGKILL' && Date.now() > deadline) {
      sent = 'SIGKILL';
      signalProcess(pid, sent);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
