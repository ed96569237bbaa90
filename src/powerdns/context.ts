import type { Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { PowerDnsClient } from './client.ts';
import type { DnsServer } from './dns-query.ts';
import { ZoneReader } from './reader.ts';
import { ZoneWriter } from './writer.ts';
import { ZoneDirectory } from './zones.ts';

/** What the DNS controller and the API need of PowerDNS, built once per process and passed in. */
export interface PowerDns {
  client: PowerDnsClient;
  /** Reads the RRsets at a name, batched per zone. */
  reader: ZoneReader;
  writer: ZoneWriter;
  zones: ZoneDirectory;
  /** The authoritative DNS port asked whether records are served. */
  dnsServer: DnsServer;
  /** This installation's name in ownership markers. */
  ownerId: string;
}

export interface PowerDnsSettings {
  apiUrl: string;
  apiKey: string;
  serverId?: string;
  dnsHost?: string;
  dnsPort: number;
  serializeWrites?: boolean;
  ownerId?: string;
  requestTimeoutMs?: number;
}

export function createPowerDns(settings: PowerDnsSettings, logger?: Logger): PowerDns {
  const client = new PowerDnsClient(settings);
  return {
    client,
    reader: new ZoneReader(client),
    writer: new ZoneWriter(client, { serializeServer: settings.serializeWrites ?? true, ...(logger ? { logger } : {}) }),
    zones: new ZoneDirectory(client),
    dnsServer: { host: settings.dnsHost ?? new URL(settings.apiUrl).hostname, port: settings.dnsPort },
    ownerId: settings.ownerId ?? 'cloudpods',
  };
}

/** PowerDNS from the configuration, or null when it is not configured (no DNS controller runs then). */
export function powerDnsFromConfig(config: Config, logger?: Logger): PowerDns | null {
  const { apiUrl, apiKey } = config.powerdns;
  if (!apiUrl || !apiKey) return null;
  return createPowerDns({ ...config.powerdns, apiUrl, apiKey }, logger);
}
