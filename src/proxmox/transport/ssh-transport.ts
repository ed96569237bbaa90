import https from 'node:https';
import type { Duplex } from 'node:stream';
import { exchange } from './http-exchange.ts';
import type { SshConnections } from './ssh-connections.ts';
import { connectPinnedTls } from './tls-pinning.ts';
import type { ProxmoxTransport, WireRequest, WireResponse } from './transport.ts';

/**
 * The REST API through SSH: each request goes over a `direct-tcpip` channel to 127.0.0.1:8006 on the node (the
 * same pveproxy, the same token), with HTTP keep-alive inside the tunnel. No `pvesh`, no shell.
 */

export interface SshTransportOptions {
  connections: SshConnections;
  /** Pins pveproxy's certificate inside the tunnel too; the SSH host key already authenticates the node. */
  tlsFingerprint?: string;
}

const apiPort = 8006;

export function createSshTransport(options: SshTransportOptions): ProxmoxTransport {
  const agents = new Map<string, https.Agent>();
  const agentFor = (node: string | undefined): https.Agent => {
    const key = node ?? '';
    let agent = agents.get(key);
    if (!agent) {
      agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
      agent.createConnection = (_options, callback) => {
        openTunnel(options, node).then((channel) => {
          connectPinnedTls({
            host: '127.0.0.1', port: apiPort, socket: channel, requireTrust: false,
            trust: options.tlsFingerprint === undefined ? {} : { fingerprint: options.tlsFingerprint },
          }, (error, socket) => callback?.(error, socket as Duplex));
        }, (error: Error) => callback?.(error, undefined as unknown as Duplex));
        return undefined;
      };
      agents.set(key, agent);
    }
    return agent;
  };
  return {
    name: 'ssh',
    send: (request: WireRequest): Promise<WireResponse> => exchange(agentFor(request.node), '127.0.0.1', apiPort, request),
    close: async () => {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
      await options.connections.close();
    },
  };
}

async function openTunnel(options: SshTransportOptions, node: string | undefined): Promise<Duplex> {
  const client = await options.connections.client(node);
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, '127.0.0.1', apiPort, (error, channel) => (error ? reject(error) : resolve(channel)));
  });
}
