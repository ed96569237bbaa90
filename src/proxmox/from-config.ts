import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import { ProxmoxApi } from './api.ts';
import { ProxmoxClient } from './client.ts';
import { noSnippetStore, SftpSnippetStore } from './snippets.ts';
import { createHttpsTransport } from './transport/https-transport.ts';
import { SshConnections, type SshEndpoint } from './transport/ssh-connections.ts';
import { createSshTransport } from './transport/ssh-transport.ts';
import type { ProxmoxTransport } from './transport/transport.ts';

/**
 * Builds the client the configuration describes, or reports every missing piece at once. SSH settings, when
 * present, also serve snippet uploads for the HTTPS transport.
 */
export function proxmoxClientFromConfig(settings: Config['proxmox'], logger?: Logger): ProxmoxClient {
  const problems: string[] = [];
  const need = (value: unknown, path: string, variable: string, why: string) => {
    if (value === undefined) problems.push(`${path} (${variable}): ${why}`);
  };
  need(settings.url, 'proxmox.url', 'CLOUDPODS_PROXMOX_URL', 'required to reach Proxmox VE');
  need(settings.token.id, 'proxmox.token.id', 'CLOUDPODS_PROXMOX_TOKEN_ID', 'required to reach Proxmox VE');
  need(settings.token.secret, 'proxmox.token.secret', 'CLOUDPODS_PROXMOX_TOKEN_SECRET', 'required to reach Proxmox VE');
  const sshConfigured = settings.ssh.privateKey !== undefined || settings.transport === 'ssh';
  if (sshConfigured) {
    need(settings.ssh.privateKey, 'proxmox.ssh.privateKey', 'CLOUDPODS_PROXMOX_SSH_PRIVATE_KEY', 'required for SSH');
    need(settings.ssh.hostKeyFingerprint, 'proxmox.ssh.hostKeyFingerprint', 'CLOUDPODS_PROXMOX_SSH_HOST_KEY_FINGERPRINT',
      'required for SSH: host keys are always pinned');
  }
  let ca: string | undefined;
  if (settings.tls.caFile !== undefined) {
    try {
      ca = readFileSync(settings.tls.caFile, 'utf8');
    } catch (error) {
      problems.push(`proxmox.tls.caFile (CLOUDPODS_PROXMOX_TLS_CA_FILE): cannot read ${settings.tls.caFile}: ` +
        `${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const url = new URL(settings.url!);
  const connections = sshConfigured ? new SshConnections({
    defaultEndpoint: { host: settings.ssh.host ?? url.hostname.replace(/^\[|\]$/g, ''), port: settings.ssh.port },
    nodeEndpoints: parseNodeHosts(settings.ssh.nodeHosts, settings.ssh.port),
    user: settings.ssh.user,
    privateKey: settings.ssh.privateKey!,
    hostKeyFingerprints: settings.ssh.hostKeyFingerprint!.split(',').map((f) => f.trim()),
    connectTimeoutMs: settings.requestTimeoutMs,
  }) : undefined;
  const trust = { ...(ca !== undefined ? { ca } : {}), ...(settings.tls.fingerprint ? { fingerprint: settings.tls.fingerprint } : {}) };
  const transport: ProxmoxTransport = settings.transport === 'ssh'
    ? createSshTransport({ connections: connections!, ...(settings.tls.fingerprint ? { tlsFingerprint: settings.tls.fingerprint } : {}) })
    : withConnections(createHttpsTransport({ url: settings.url!, trust }), connections);
  const api = new ProxmoxApi({
    transport, tokenId: settings.token.id!, tokenSecret: settings.token.secret!,
    perNodeConcurrency: settings.concurrency.perNode, perStorageConcurrency: settings.concurrency.perStorage,
    requestTimeoutMs: settings.requestTimeoutMs, ...(logger ? { logger } : {}),
  });
  const snippets = connections ? new SftpSnippetStore(connections, settings.snippets) : noSnippetStore;
  return new ProxmoxClient({ api, snippets, taskWait: { pollIntervalMs: settings.taskPollIntervalMs } });
}

/** `pve1=10.0.0.1,pve2=10.0.0.2:2222` */
export function parseNodeHosts(text: string | undefined, defaultPort: number): Record<string, SshEndpoint> {
  if (!text) return {};
  return Object.fromEntries(text.split(',').map((entry) => {
    const [node, address] = entry.split('=') as [string, string];
    const match = /^(.*?)(?::(\d+))?$/.exec(address)!;
    return [node, { host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : defaultPort }];
  }));
}

/** The HTTPS transport closes the SSH connections used for snippets along with itself. */
function withConnections(transport: ProxmoxTransport, connections: SshConnections | undefined): ProxmoxTransport {
  if (!connections) return transport;
  return {
    name: transport.name,
    send: (request) => transport.send(request),
    close: async () => {
      await transport.close();
      await connections.close();
    },
  };
}
