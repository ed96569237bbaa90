import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runScript, type ScriptRun } from '../src/hooks/script-runner.ts';
import { waitFor } from './support/wait.ts';

const test = suite('script hooks');
let root: string;
let scripts: string;
let out: string;

test.before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'cloudpods-hook-scripts-'));
  scripts = path.join(root, 'scripts');
  out = path.join(root, 'out');
  await fs.mkdir(scripts);
  await fs.mkdir(out);
  const script = (name: string, text: string, mode = 0o755) => fs.writeFile(path.join(scripts, name), text, { mode });
  await script('fails.sh', '#!/bin/sh\necho "starting" >&2\necho "boom: the provisioning API said no" >&2\nexit 3\n');
  await script('ok.sh', '#!/bin/sh\nexit 0\n');
  await script('not-executable.sh', '#!/bin/sh\nexit 0\n', 0o644);
  // Sleeps in a child, as a real script waiting on a slow command would.
  await script('slow.sh', `#!/bin/sh\nsleep 30 &\necho $! > "${out}/slow.pid"\nwait\n`);
  await fs.writeFile(path.join(root, 'outside.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  await fs.symlink(path.join(root, 'outside.sh'), path.join(scripts, 'escape.sh'));
  await fs.symlink(path.join(scripts, 'ok.sh'), path.join(scripts, 'alias.sh'));
});

test.after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const run = (name: string, fields: Partial<ScriptRun> = {}) =>
  runScript({ directory: scripts, name, input: '{}', env: {}, timeoutMs: 5000, ...fields });

test('exit 0 is delivered; a link to a script inside the directory is fine', async () => {
  assert.equal(await run('ok.sh'), { ok: true, detail: 'exit 0' });
  assert.equal(await run('alias.sh'), { ok: true, detail: 'exit 0' });
});

test('a non-zero exit fails with the code and the end of stderr', async () => {
  assert.equal(await run('fails.sh'),
    { ok: false, reason: 'script "fails.sh" exited with code 3: starting boom: the provisioning API said no' });
});

test('only allow-listed scripts run: missing, not executable, leading out of the directory, no directory', async () => {
  assert.equal(await run('deploy'), { ok: false, reason: 'no script "deploy" is allow-listed: an admin places an '
    + 'executable file of that name in the scripts directory (hooks.scriptsDirectory)' });
  assert.equal(await run('not-executable.sh'), { ok: false, reason: 'script "not-executable.sh" is not executable' });
  assert.equal(await run('escape.sh'), { ok: false, reason: 'script "escape.sh" leads out of the scripts directory; refused' });
  assert.equal(await run('../outside.sh'), { ok: false, reason: '"../outside.sh" is not a script identifier' });
  const unconfigured = await run('ok.sh', { directory: undefined });
  assert.is(unconfigured.ok, false);
  assert.match((unconfigured as { reason: string }).reason, /no scripts directory is configured \(hooks\.scriptsDirectory, CLOUDPODS_HOOK_SCRIPTS_DIR\)/);
});

test('a script running past its timeout is killed with everything it started', async () => {
  const started = Date.now();
  assert.equal(await run('slow.sh', { timeoutMs: 1000 }),
    { ok: false, reason: 'script "slow.sh" ran longer than 1 s (timeout); killed' });
  assert.ok(Date.now() - started < 5000, 'the run ended at the timeout, not when the child would have');
  const pid = Number(await fs.readFile(path.join(out, 'slow.pid'), 'utf8'));
  await waitFor('the script\'s child to be gone', () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, (gone) => gone, { timeoutMs: 3000 });
});

test('config.env may not set variables that change how the script runs', async () => {
  for (const name of ['LD_PRELOAD', 'BASH_ENV', 'PATH', 'NODE_OPTIONS']) {
    assert.equal(await run('ok.sh', { env: { [name]: '/tmp/x' } }),
      { ok: false, reason: `config.env may not set ${name}: it changes how the script runs` });
  }
});

test.run();
