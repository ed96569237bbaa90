/**
 * What `npm test` does about the Debian packages its suites need, decided from what is missing and what this
 * machine allows: nothing, install them (root with apt-get: the package lists first, then only what is missing),
 * or stop at once naming the command that would install them. Pure; test/support/debian-packages.ts acts on it.
 */

export interface PackageFacts {
  /** Debian packages whose programs or files are not found, in the order they are needed. */
  missing: string[];
  isRoot: boolean;
  hasAptGet: boolean;
}

export type PackagePlan =
  | { kind: 'ready' }
  | { kind: 'install'; packages: string[]; commands: string[][] }
  | { kind: 'fail'; message: string };

export function planDebianPackages({ missing, isRoot, hasAptGet }: PackageFacts): PackagePlan {
  if (missing.length === 0) return { kind: 'ready' };
  const packages = [...new Set(missing)];
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
  if (isRoot && hasAptGet) {
    // Another apt on the machine (a parallel run, unattended upgrades) holds dpkg's lock for a while: wait for it.
    const waiting = ['-o', 'DPkg::Lock::Timeout=300'];
    return { kind: 'install', packages, commands: [['apt-get', ...waiting, 'update'], ['apt-get', ...waiting, ...install.slice(1)]] };
  }
  const command = `${isRoot ? '' : 'sudo '}apt-get update && ${isRoot ? '' : 'sudo '}${install.join(' ')}`;
  return {
    kind: 'fail',
    message: `the tests need Debian packages that are not installed: ${packages.join(', ')}.\n` + (hasAptGet
      ? `Run: ${command}\n`
      : `This machine has no apt-get: on Debian run ${command}, or install the same programs otherwise.\n`)
      + 'CHROMIUM_PATH names another Chromium, PDNS_API_URL another PowerDNS, and any kubectl on PATH will do.',
  };
}
