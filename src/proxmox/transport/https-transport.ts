import https from 'node:https';
import type { Duplex } from 'node:stream';
import { exchange } from './http-exchange.ts';
import { connectPinnedTls, type TlsTrust } from './tls-pinning.ts';
import type { ProxmoxTransport, WireRequest, WireResponse } from './transport.ts';

/** Straight HTTPS to pveproxy (`https://host:8006`), keeping connections alive between requests. */

export interface HttpsTransportOptions {
  /** `https://pve1.example.com:8006` (a trailing `/api2/json` is ignored). */
  url: string;
  trust: TlsTrust;
  /** Most sockets kept open to the API. */
  maxSockets?: number;
}

export function createHttpsTransport(options: HttpsTransportOptions): ProxmoxTransport {
  const url = new URL(options.url);
  if (url.protocol !== 'https:') throw new Error(`the Proxmox API URL must be https, got ${url.protocol}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 8006);
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  agent.createConnection = (_options, callback) => {
    connectPinnedTls({ host, port, trust: options.trust, requireTrust: true }, (error, socket) => {
      callback?.(error, socket as Duplex);
    });
    return undefined;
  };
  return {
    name: 'https',
    send: (request: WireRequest): Promise<WireResponse> => exchange(agent, host, port, request),
    close: async () => agent.destroy(),
  };
}
