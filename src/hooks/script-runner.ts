import { spawn } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { hijackingVariable } from './config.ts';
import type { DeliveryOutcome } from './http-delivery.ts';

/**
 * Script hooks (spec 9): the hook's target names a script that an admin allow-listed by placing an executable
 * file of that name in `hooks.scriptsDirectory`. It runs without a shell, with the envelope JSON on stdin and a
 * small environment, in a process group of its own that the timeout kills whole (SIGKILL), children included.
 * Exit 0 is delivered; anything else is a failure whose reason carries the exit code and the end of stderr.
 *
 * spawn is used as execFile would be (no shell, arguments never interpreted), but detached so the group can be
 * killed: execFile kills only the script, and an orphaned child holding its pipes would keep the run alive.
 */

export interface ScriptRun {
  /** `hooks.scriptsDirectory`; undefined when none is configured. */
  directory: string | undefined;
  /** The hook's target: a script identifier. */
  name: string;
  /** The envelope JSON, written to stdin. */
  input: string;
  /** The hook's `config.env`, then the event's variables (which win). */
  env: Record<string, string>;
  timeoutMs: number;
  /** The job's signal: shutdown or an admin's cancel kill the run. */
  signal?: AbortSignal;
}

const scriptName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const reasonStderrChars = 200;
/** stderr kept while the script runs (the tail matters). */
const stderrKeepBytes = 4096;
const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The script's file, after checking it is inside the directory, a regular file and executable. */
export async function resolveScript(directory: string | undefined, name: string)
  : Promise<{ ok: true; file: string; directory: string } | { ok: false; reason: string }> {
  if (!directory) {
    return { ok: false, reason: 'script hooks are not enabled here: no scripts directory is configured (hooks.scriptsDirectory, CLOUDPODS_HOOK_SCRIPTS_DIR)' };
  }
  if (!scriptName.test(name) || name === '.' || name === '..') return { ok: false, reason: `"${name}" is not a script identifier` };
  let realDirectory: string;
  try {
    realDirectory = await fs.realpath(directory);
  } catch (error) {
    return { ok: false, reason: `the scripts directory cannot be read (${(error as NodeJS.ErrnoException).code})` };
  }
  let file: string;
  try {
    file = await fs.realpath(path.join(realDirectory, name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT'
      ? `no script "${name}" is allow-listed: an admin places an executable file of that name in the scripts `
        + 'directory (hooks.scriptsDirectory)'
      : `script "${name}" cannot be read (${code})` };
  }
  const inside = path.relative(realDirectory, file);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    return { ok: false, reason: `script "${name}" leads out of the scripts directory; refused` };
  }
  try {
    if (!(await fs.stat(file)).isFile()) return { ok: false, reason: `script "${name}" is not a regular file` };
    await fs.access(file, constants.X_OK);
  } catch {
    return { ok: false, reason: `script "${name}" is not executable` };
  }
  return { ok: true, file, directory: realDirectory };
}

export async function runScript(run: ScriptRun): Promise<DeliveryOutcome> {
  const refused = Object.keys(run.env).find((name) => hijackingVariable.test(name));
  if (refused) return { ok: false, reason: `config.env may not set ${refused}: it changes how the script runs` };
  const script = await resolveScript(run.directory, run.name);
  if (!script.ok) return script;
  if (run.signal?.aborted) return { ok: false, reason: 'the attempt was stopped before the script ran' };

  return new Promise<DeliveryOutcome>((resolve) => {
    const child = spawn(script.file, [], {
      cwd: script.directory, shell: false, detached: true, stdio: ['pipe', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH || defaultPath, ...run.env },
    });
    let stderr = Buffer.alloc(0);
    let stopped: string | undefined;
    const killGroup = (why: string) => {
      stopped ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already, or never formed
      }
    };
    const timer = setTimeout(() => killGroup(`ran longer than ${run.timeoutMs / 1000} s (timeout); killed`), run.timeoutMs);
    const onAbort = () => killGroup('the attempt was stopped; killed');
    run.signal?.addEventListener('abort', onAbort, { once: true });

    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > stderrKeepBytes) stderr = stderr.subarray(stderr.length - stderrKeepBytes);
    });
    // A script that does not read its input closes the pipe early: that is its business.
    child.stdin.on('error', () => {});
    child.stdin.end(run.input);

    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const done = (outcome: DeliveryOutcome) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      done({ ok: false, reason: `script "${run.name}" could not be started (${error.code ?? error.message})` });
    });
    // The run is the script and whatever it started in its group: when the script ends, so does the rest
    // (a script that means to leave something running detaches it with setsid). That also closes the pipes.
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch { /* nothing left */ }
    });
    child.on('close', () => {
      if (stopped) {
        done({ ok: false, reason: `script "${run.name}" ${stopped}` });
        return;
      }
      if (exit?.code === 0) {
        done({ ok: true, detail: 'exit 0' });
        return;
      }
      const tail = stderr.toString('utf8').replace(/\s+/g, ' ').trim().slice(-reasonStderrChars);
      const how = exit?.code === null || exit === undefined ? `was killed by ${exit?.signal ?? 'a signal'}`
        : `exited with code ${exit.code}`;
      done({ ok: false, reason: `script "${run.name}" ${how}${tail ? `: ${tail}` : ''}` });
    });
  });
}
