import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { planDebianPackages } from './support/debian-plan.ts';

/** `npm test` brings the Debian packages its suites need, or says at once how to. */
const test = suite('debian packages for the tests');
const runner = new URL('./run.ts', import.meta.url).pathname;
const dirs: string[] = [];

test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('nothing missing: nothing to do, whoever runs it', () => {
  for (const isRoot of [true, false]) {
    assert.equal(planDebianPackages({ missing: [], isRoot, hasAptGet: true }), { kind: 'ready' });
  }
});

test('missing, as root with apt-get: the package lists first, then exactly what is missing', () => {
  const plan = planDebianPackages({ missing: ['chromium', 'kubernetes-client'], isRoot: true, hasAptGet: true });
  assert.is(plan.kind, 'install');
  if (plan.kind !== 'install') return;
  assert.equal(plan.packages, ['chromium', 'kubernetes-client']);
  assert.equal(plan.commands.map((c) => c.filter((arg) => !arg.startsWith('-') && !arg.startsWith('DPkg'))),
    [['apt-get', 'update'], ['apt-get', 'install', 'chromium', 'kubernetes-client']]);
  assert.ok(plan.commands[1]!.includes('-y'), 'no question asked');
});

test('missing, not root: stop at once naming the sudo command', () => {
  const plan = planDebianPackages({ missing: ['pdns-server', 'pdns-backend-sqlite3'], isRoot: false, hasAptGet: true });
  assert.is(plan.kind, 'fail');
  if (plan.kind !== 'fail') return;
  assert.match(plan.message, 'Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends pdns-server pdns-backend-sqlite3');
});

test('missing, no apt-get: stop at once naming the Debian command and the overrides', () => {
  const plan = planDebianPackages({ missing: ['chromium'], isRoot: true, hasAptGet: false });
  assert.is(plan.kind, 'fail');
  if (plan.kind !== 'fail') return;
  assert.match(plan.message, 'no apt-get');
  assert.match(plan.message, 'apt-get install -y --no-install-recommends chromium');
  assert.match(plan.message, 'CHROMIUM_PATH');
});

/** The runner with a PATH of one directory: kubectl is missing there, the rest is named by overrides. */
function runRunner(withAptGet: boolean) {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'cloudpods-apt-'));
  dirs.push(bin);
  chmodSync(bin, 0o755);
  const log = path.join(bin, 'apt-get.log');
  if (withAptGet) {
    // Records how it was called; its install brings a kubectl, as kubernetes-client does.
    writeFileSync(path.join(bin, 'apt-get'), `#!/bin/sh\necho "$@" >> ${log}\ncase "$*" in *install*)\n`
      + `  printf '#!/bin/sh\\n' > ${bin}/kubectl; /bin/chmod +x ${bin}/kubectl;;\nesac\n`, { mode: 0o755 });
  }
  const result = spawnSync(process.execPath, [runner, 'no-suite-has-this-name'], {
    encoding: 'utf8', timeout: 60_000,
    env: { PATH: bin, HOME: os.tmpdir(), CHROMIUM_PATH: process.execPath, PDNS_API_URL: 'http://127.0.0.1:9' },
  });
  let calls: string[] = [];
  try {
    calls = readFileSync(log, 'utf8').trim().split('\n');
  } catch { /* never called */ }
  return { ...result, output: result.stdout + result.stderr, calls };
}

test('npm test without apt-get stops before anything else, naming the package', () => {
  const run = runRunner(false);
  assert.is(run.status, 1, run.output);
  assert.match(run.output, 'kubernetes-client');
  assert.match(run.output, 'apt-get install -y --no-install-recommends kubernetes-client');
  assert.not.match(run.output, 'PostgreSQL for this run', 'no PostgreSQL was started');
  assert.is(run.stdout.trimEnd().split('\n').at(-1), '0 passed, 1 failed');
});

test('npm test with apt-get: as root it installs what is missing, saying so once; otherwise it names sudo', () => {
  const run = runRunner(true);
  if (process.getuid?.() === 0) {
    assert.equal(run.calls.map((call) => call.replace(/-o DPkg::Lock::Timeout=\d+ /, '')),
      ['update', 'install -y --no-install-recommends kubernetes-client'], run.output);
    assert.is(run.output.split('installing the Debian packages the tests need: kubernetes-client').length - 1, 1, run.output);
    assert.match(run.output, 'no test suites matched', 'then the run went on');
  } else {
    assert.equal(run.calls, [], 'nothing ran apt-get');
    assert.match(run.output, 'sudo apt-get install -y --no-install-recommends kubernetes-client');
  }
  assert.is(run.stdout.trimEnd().split('\n').at(-1), '0 passed, 1 failed');
});

test.run();
