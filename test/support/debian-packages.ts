import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { findPowerDns } from '../../src/powerdns/embedded.ts';
import { findChromium } from './browser.ts';
import { planDebianPackages } from './debian-plan.ts';

/**
 * The Debian packages the suites need, each found the way its suites look for it (so an override such as
 * CHROMIUM_PATH or PDNS_API_URL counts as present), installed by `npm test` when it may (debian-plan.ts).
 */
const requirements: Array<{ packages: string[]; present: () => boolean }> = [
  // The admin pages' browser test.
  { packages: ['chromium'], present: () => findChromium() !== undefined },
  // The DNS suites and dev: pdns_server with the sqlite3 backend, unless a PowerDNS is named.
  { packages: ['pdns-server', 'pdns-backend-sqlite3'], present: () => !!process.env.PDNS_API_URL || findPowerDns() !== null },
  // The kubectl acceptance suite: any kubectl on PATH (Debian's package is kubernetes-client).
  { packages: ['kubernetes-client'], present: () => onPath('kubectl') },
];

export function missingDebianPackages(): string[] {
  return requirements.filter((r) => !r.present()).flatMap((r) => r.packages);
}

/** Makes sure the packages are there; resolves to the reason the run cannot go on, or undefined. */
export async function ensureDebianPackages(say: (line: string) => void): Promise<string | undefined> {
  const plan = planDebianPackages({ missing: missingDebianPackages(), isRoot: process.getuid?.() === 0, hasAptGet: onPath('apt-get') });
  if (plan.kind === 'ready') return undefined;
  if (plan.kind === 'fail') return plan.message;
  say(`installing the Debian packages the tests need: ${plan.packages.join(' ')} (apt-get)`);
  for (const command of plan.commands) {
    const { code, output } = await run(command);
    if (code !== 0) return `\`${command.join(' ')}\` failed (${code}):\n${output.trimEnd()}`;
  }
  const still = missingDebianPackages();
  return still.length === 0 ? undefined : `installed, yet still not found: ${still.join(', ')}`;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs quietly: apt's output is shown only when it fails. */
function run([command, ...args]: string[]): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command!, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('error', (error) => resolve({ code: error.message, output }));
    child.on('close', (code, signal) => resolve({ code: code ?? signal ?? 'killed', output }));
  });
}
