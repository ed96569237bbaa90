import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import ssh2 from 'ssh2';
import { serveSftp, type SnippetsMount } from './sftp.ts';

/**
 * The SSH side of a simulated node, as CloudPods uses a real one: public-key login, `direct-tcpip` forwarding to
 * the API on 127.0.0.1:8006 (and nowhere else), and SFTP into the snippets directory. No shell, no exec.
 */

export interface SshServerOptions {
  host: string;
  port: number;
  /** OpenSSH private host key. */
  hostKey: string;
  user: string;
  /** OpenSSH public key lines allowed to log in. */
  authorizedKeys: string[];
  /** Where a forward to 127.0.0.1:8006 really goes: the simulator's HTTPS port. */
  apiPort: number;
  snippets: SnippetsMount;
}

export interface SimSshServer {
  port: number;
  /** Logins so far: a client that reuses its connection makes one per node. */
  connections(): number;
  close(): Promise<void>;
}

const forwardHosts = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startSshServer(options: SshServerOptions): Promise<SimSshServer> {
  const allowed = options.authorizedKeys.map((line) => {
    const key = ssh2.utils.parseKey(line);
    if (key instanceof Error) throw new Error(`authorized key is not valid: ${key.message}`);
    return key;
  });
  let logins = 0;
  const clients = new Set<ssh2.Connection>();
  const server = new ssh2.Server({ hostKeys: [options.hostKey] }, (client) => {
    clients.add(client);
    // As a node's sshd: no Nagle delay on small API exchanges (the method exists; @types/ssh2 omits it).
    (client as unknown as { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    client.on('close', () => clients.delete(client));
    client.on('error', () => client.end());
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.username !== options.user) return ctx.reject(['publickey']);
      const key = allowed.find((k) => k.type === ctx.key.algo && sameBytes(k.getPublicSSH(), ctx.key.data));
      if (!key || (ctx.signature && key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true)) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      logins += 1;
      client.on('tcpip', (accept, reject, info) => {
        if (info.destPort !== 8006 || !forwardHosts.has(info.destIP)) return reject();
        const channel = accept();
        const upstream = net.connect({ port: options.apiPort, host: '127.0.0.1', noDelay: true });
        upstream.on('error', () => channel.destroy());
        channel.on('error', () => upstream.destroy());
        channel.pipe(upstream).pipe(channel);
      });
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), options.snippets));
        session.on('exec', (_accept, rejectExec) => rejectExec());
        session.on('shell', (_accept, rejectShell) => rejectShell());
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => logins,
    close: () => new Promise((resolve) => {
      for (const client of clients) client.end();
      server.close(() => resolve());
    }),
  };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
