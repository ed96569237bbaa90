import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { UntrustedPeerError } from '../errors.ts';
import { sameTlsFingerprint } from './fingerprints.ts';

/**
 * TLS to pveproxy, trusted by a CA (the cluster's pve-root-ca.pem) and/or a pinned SHA-256 certificate fingerprint.
 * With only a fingerprint the chain is not checked (PVE certificates are self-signed) but the certificate must be
 * exactly the pinned one; the socket is handed out only after that check, before any request byte is written.
 */

export interface TlsTrust {
  /** PEM text of the CA certificate(s). */
  ca?: string;
  fingerprint?: string;
}

export interface PinnedTlsTarget {
  host: string;
  port: number;
  /** An already open stream to run TLS over (an SSH channel); a TCP connection is made when absent. */
  socket?: Duplex;
  trust: TlsTrust;
  /** Over SSH the host key already authenticates the peer; the certificate is then only checked when pinned. */
  requireTrust: boolean;
}

export function connectPinnedTls(target: PinnedTlsTarget, done: (error: Error | null, socket?: tls.TLSSocket) => void): void {
  const { trust } = target;
  const verifyChain = trust.ca !== undefined || (target.requireTrust && trust.fingerprint === undefined);
  const socket = tls.connect({
    host: target.host, port: target.port, ...(target.socket ? { socket: target.socket } : {}),
    ...(trust.ca !== undefined ? { ca: trust.ca } : {}),
    rejectUnauthorized: verifyChain,
    ...(isIP(target.host) ? {} : { servername: target.host }),
  });
  let settled = false;
  const finish = (error: Error | null) => {
    if (settled) return;
    settled = true;
    socket.off('error', finish);
    if (error) {
      socket.destroy();
      done(error);
    } else done(null, socket);
  };
  socket.once('error', finish);
  socket.once('secureConnect', () => {
    const actual = socket.getPeerCertificate().fingerprint256;
    if (trust.fingerprint !== undefined && !sameTlsFingerprint(actual, trust.fingerprint)) {
      finish(new UntrustedPeerError(`TLS certificate of ${target.host}:${target.port} has SHA-256 fingerprint ${actual}, ` +
        `not the pinned ${trust.fingerprint}: refusing to talk to it`));
      return;
    }
    finish(null);
  });
}
