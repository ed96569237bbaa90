import { spawn, type ChildProcess } from 'node:child_process';
import { GiveUp, waitFor } from './wait.ts';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

/**
 * `cloudpods dev` as a child process, resolved once it printed its banner. `detached` gives it a process group of
 * its own, so a test can end what it started along with it.
 */
export async function startDevProcess(env: NodeJS.ProcessEnv, { detached = false } = {}):
  Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, [cli, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  await waitFor('dev to print its banner', () => {
    if (child.exitCode !== null) throw new GiveUp(`dev exited with ${child.exitCode}: ${out}`);
    return out;
  }, (text) => text.includes('CloudPods dev is running'), { timeoutMs: 90_000 });
  return { child, out: () => out };
}
