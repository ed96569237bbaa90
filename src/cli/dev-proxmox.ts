import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import type { ProxmoxClient } from '../proxmox/client.ts';
import { proxmoxClientFromConfig } from '../proxmox/from-config.ts';
import { platformCluster } from '../sim/proxmox/presets.ts';
import { startProxmoxSimulator, type ProxmoxSimulator } from '../sim/proxmox/simulator.ts';

/** What `.cloudpods/dev.json` says about the Proxmox VE that dev talks to. */
export interface DevProxmoxInfo {
  simulated: boolean;
  url: string;
  sshPort?: number;
  tokenId?: string;
  tokenSecret?: string;
  tlsFingerprint?: string;
  hostKeyFingerprint?: string;
}

export interface DevProxmox {
  client: ProxmoxClient;
  info: DevProxmoxInfo;
  stop(): Promise<void>;
}

/**
 * The Proxmox VE of `cloudpods dev`: the one configured (CLOUDPODS_PROXMOX_URL), or else the simulator with the
 * platform's three-node cluster, reached through the same client-from-configuration path as production (HTTPS
 * pinned by fingerprint, snippets over SSH with a pinned host key). The simulated cluster lives under
 * `<dataDir>/proxmox/` (its state file and the snippets directory), so a restart finds the pods' VMs again.
 */
export async function startDevProxmox(config: Config, logger: Logger): Promise<DevProxmox> {
  const proxmoxLogger = componentLogger(logger, 'proxmox');
  if (config.proxmox.url) {
    const client = proxmoxClientFromConfig(config.proxmox, proxmoxLogger);
    return { client, info: { simulated: false, url: config.proxmox.url }, stop: async () => {} };
  }
  const dir = path.resolve(config.dev.dataDir, 'proxmox');
  const snippetsDir = path.join(dir, 'snippets');
  mkdirSync(snippetsDir, { recursive: true });
  const sim = await startProxmoxSimulator(platformCluster({ logger: componentLogger(logger, 'sim'),
    stateFile: path.join(dir, 'state.json'), snippetsDir }));
  const client = simulatorClient(sim, config, proxmoxLogger);
  return {
    client,
    info: { simulated: true, url: sim.url, sshPort: sim.sshPort, tokenId: sim.token.id, tokenSecret: sim.token.secret,
      tlsFingerprint: sim.tlsFingerprint, hostKeyFingerprint: sim.hostKeyFingerprint },
    stop: () => sim.stop(),
  };
}

/** A client for a running simulator, built by the production path from configuration with its endpoints filled in. */
export function simulatorClient(sim: ProxmoxSimulator, config: Config, logger: Logger): ProxmoxClient {
  return proxmoxClientFromConfig({
    ...config.proxmox,
    url: sim.url,
    token: { id: sim.token.id, secret: sim.token.secret },
    tls: { fingerprint: sim.tlsFingerprint },
    ssh: { ...config.proxmox.ssh, host: sim.host, port: sim.sshPort, user: sim.sshUser, privateKey: sim.sshPrivateKey!,
      hostKeyFingerprint: sim.hostKeyFingerprint },
  }, logger);
}
