import ssh2 from 'ssh2';
import { PermissionDeniedError, TransientError, UntrustedPeerError } from '../errors.ts';
import { sameSshFingerprint, sshHostKeyFingerprint } from './fingerprints.ts';

/**
 * One SSH connection per node, opened on first use and reused for every tunnelled request and SFTP session until
 * it drops. The host key must match the pinned fingerprint; otherwise the connection is refused before login.
 */

export interface SshEndpoint {
  host: string;
  port: number;
}

export interface SshConnectionOptions {
  /** Where to connect for nodes not listed in `nodeHosts`: every node proxies API calls for the cluster. */
  defaultEndpoint: SshEndpoint;
  /** Node name → its own address, so each node's work goes to that node. */
  nodeEndpoints?: Record<string, SshEndpoint>;
  user: string;
  privateKey: string;
  /** `SHA256:...` as ssh-keygen prints it; one for every node of the cluster, or one per node. */
  hostKeyFingerprints: string[];
  connectTimeoutMs: number;
}

export class SshConnections {
  readonly #options: SshConnectionOptions;
  readonly #clients = new Map<string, Promise<ssh2.Client>>();
  readonly #sftp = new Map<string, Promise<ssh2.SFTPWrapper>>();

  constructor(options: SshConnectionOptions) {
    this.#options = options;
  }

  /** The connection for a node (`undefined`: the default endpoint), opening it when needed. */
  client(node: string | undefined): Promise<ssh2.Client> {
    const endpoint = this.endpoint(node);
    const key = `${endpoint.host}:${endpoint.port}/${node ?? ''}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = this.#connect(endpoint, () => {
        this.#clients.delete(key);
        this.#sftp.delete(key);
      });
      this.#clients.set(key, client);
      client.catch(() => this.#clients.delete(key));
    }
    return client;
  }

  /** An SFTP session on the node's connection, reused like the connection. */
  sftp(node: string | undefined): Promise<ssh2.SFTPWrapper> {
    const endpoint = this.endpoint(node);
    const key = `${endpoint.host}:${endpoint.port}/${node ?? ''}`;
    let session = this.#sftp.get(key);
    if (!session) {
      session = this.client(node).then((client) => new Promise<ssh2.SFTPWrapper>((resolve, reject) => {
        client.sftp((error, sftp) => (error ? reject(new TransientError(`SFTP on ${key}: ${error.message}`, { cause: error })) : resolve(sftp)));
      }));
      this.#sftp.set(key, session);
      session.then((sftp) => sftp.once('close', () => this.#sftp.delete(key)), () => this.#sftp.delete(key));
    }
    return session;
  }

  endpoint(node: string | undefined): SshEndpoint {
    return (node ? this.#options.nodeEndpoints?.[node] : undefined) ?? this.#options.defaultEndpoint;
  }

  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    this.#sftp.clear();
    for (const settled of await Promise.allSettled(clients)) if (settled.status === 'fulfilled') settled.value.end();
  }

  #connect(endpoint: SshEndpoint, onClose: () => void): Promise<ssh2.Client> {
    const options = this.#options;
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let presented: string | undefined;
      client.once('ready', () => {
        // Small request/answer exchanges: without TCP_NODELAY each one waits out a delayed ACK (~40 ms).
        client.setNoDelay(true);
        client.on('error', () => client.end());
        client.once('close', onClose);
        resolve(client);
      });
      client.once('error', (error: Error & { level?: string }) => {
        onClose();
        const where = `${endpoint.host}:${endpoint.port}`;
        if (presented !== undefined) {
          reject(new UntrustedPeerError(`SSH host key of ${where} is ${presented}, not the pinned ` +
            `${options.hostKeyFingerprints.join(' or ')}: refusing to connect`, { cause: error }));
        } else if (error.level === 'client-authentication') {
          reject(new PermissionDeniedError(`SSH login as ${options.user} to ${where} refused: ${error.message}`, { cause: error }));
        } else {
          reject(new TransientError(`SSH connection to ${where}: ${error.message}`, { cause: error }));
        }
      });
      client.connect({
        host: endpoint.host, port: endpoint.port, username: options.user, privateKey: options.privateKey,
        readyTimeout: options.connectTimeoutMs, keepaliveInterval: 15_000,
        hostVerifier: (key: Buffer) => {
          const fingerprint = sshHostKeyFingerprint(key);
          if (options.hostKeyFingerprints.some((pinned) => sameSshFingerprint(pinned, fingerprint))) return true;
          presented = fingerprint;
          return false;
        },
      });
    });
  }
}
