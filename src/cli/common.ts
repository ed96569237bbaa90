import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import type { DevPowerDnsInfo } from '../powerdns/dev.ts';
import type { DevProxmoxInfo } from './dev-proxmox.ts';

/** A mistake in how the command was called: the message and usage go to stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const devFilePath = (config: Config): string => path.resolve(config.dev.dataDir, 'dev.json');

/** What `cloudpods dev` writes for scripts and tests that drive a running dev instance. */
export interface DevFile {
  apiUrl: string;
  databaseUrl: string;
  adminToken: string;
  tenantToken: string;
  tenant: { id: string; slug: string };
  /** The PowerDNS `dev` started (absent when it is not installed or one is configured). */
  powerdns?: DevPowerDnsInfo;
  /** The Proxmox VE dev talks to: the simulator's endpoints, token and fingerprints, or the configured cluster. */
  proxmox?: DevProxmoxInfo;
}

export function readDevFile(config: Config): DevFile | undefined {
  const file = devFilePath(config);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as DevFile;
}

/**
 * The database a one-off command (migrate, token) works on: DATABASE_URL, else the running dev instance's,
 * so `cloudpods token create` works beside `npm start` without configuration.
 */
export function commandDatabaseUrl(config: Config): string {
  if (config.database.url) return config.database.url;
  const dev = readDevFile(config);
  if (dev) return dev.databaseUrl;
  throw new ConfigError([
    'database.url (DATABASE_URL): required, or a running `cloudpods dev` whose dev.json names its database',
  ]);
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function printError(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Resolves when the process is asked to stop (Ctrl-C, SIGTERM from Kubernetes). */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
