import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { PowerDnsClient } from './client.ts';
import { findPowerDns, installHint, startEmbeddedPowerDns } from './embedded.ts';

/** What `cloudpods dev` writes to dev.json about its PowerDNS. */
export interface DevPowerDnsInfo {
  apiUrl: string;
  apiKey: string;
  dnsHost: string;
  dnsPort: number;
  zone: string;
}

export const devZone = 'demo.cloudpods.test';

/**
 * PowerDNS for `cloudpods dev`: the configured one if any, else pdns_server with sqlite3 under `<dataDir>/powerdns`
 * (zones kept across restarts) with the demo zone, else none, said plainly. Returns the configuration to run with.
 */
export async function startDevPowerDns(config: Config, logger: Logger, say: (line: string) => void):
  Promise<{ config: Config; info?: DevPowerDnsInfo; stop(): Promise<void> }> {
  if (config.powerdns.apiUrl) return { config, stop: async () => {} };
  if (!findPowerDns()) {
    say(`PowerDNS is not installed, so DNS records stay pending: ${installHint}`);
    return { config, stop: async () => {} };
  }
  const server = await startEmbeddedPowerDns({ dataDir: path.resolve(config.dev.dataDir, 'powerdns'),
    onLog: (line) => logger.debug({ component: 'pdns_server' }, line) });
  const client = new PowerDnsClient(server);
  if (!(await client.findZone(devZone))) await client.createZone(devZone);
  const info = { apiUrl: server.apiUrl, apiKey: server.apiKey, dnsHost: server.dnsHost, dnsPort: server.dnsPort, zone: devZone };
  return {
    config: { ...config, powerdns: { ...config.powerdns, ...info, serverId: server.serverId } },
    info,
    stop: () => server.stop(),
  };
}
