import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateSshKeyPair } from '../ssh-keys.ts';
import type { Logger } from '../../observability/logger.ts';
import { sshPublicKeyFingerprint } from '../../net/ssh-fingerprint.ts';
import { issueSimulatorCertificates } from '../tls-certificate.ts';
import { SimCluster } from './cluster.ts';
import { SimFaults } from './faults.ts';
import { VmFileLocks } from './flocks.ts';
import { createApiHandler, type ApiExchange, type SimStats } from './http-api.ts';
import { simOptions, type SimDurations, type SimOptions, type SimTokenSpec } from './options.ts';
import type { Route, SimContext } from './router.ts';
import { clusterRoutes } from './routes/cluster.ts';
import { qemuConfigRoutes } from './routes/qemu-config.ts';
import { qemuLifecycleRoutes } from './routes/qemu-lifecycle.ts';
import { qemuPowerRoutes } from './routes/qemu-power.ts';
import { storageRoutes } from './routes/storage.ts';
import { taskRoutes } from './routes/tasks.ts';
import { startSshServer } from './ssh-server.ts';
import { afterInterruption, captureState, readSimState, restoreState, SimStateSaver } from './state-file.ts';
import { SimTasks } from './tasks.ts';

/**
 * An in-memory Proxmox VE cluster served the way the real one is reached: HTTPS with API tokens on one port (all
 * nodes behind it, as pveproxy proxies), SSH with forwarding to that API and SFTP into the snippets directory on
 * another. Certificates, host key, login key and token are made fresh at every start. With `stateFile`, the
 * cluster itself (VMs, disks, tasks) outlives the process: loaded at start, saved on change and at stop.
 */

export const snippetsRemoteDir = '/var/lib/vz/snippets';

const routes: Route[] = [...clusterRoutes, ...qemuConfigRoutes, ...qemuLifecycleRoutes, ...qemuPowerRoutes, ...storageRoutes, ...taskRoutes];

export interface ProxmoxSimulator {
  /** `https://127.0.0.1:<port>`: the API is under `/api2/json`. */
  url: string;
  host: string;
  httpsPort: number;
  sshPort: number;
  nodes: string[];
  /** The certificate's SHA-256 fingerprint, `AB:CD:...`. */
  tlsFingerprint: string;
  /** PEM of the CA that signed the certificate (what a cluster's pve-root-ca.pem is). */
  caCertificate: string;
  /** `SHA256:...` as ssh-keygen prints it. */
  hostKeyFingerprint: string;
  token: { id: string; secret: string };
  sshUser: string;
  /** OpenSSH private key allowed to log in (generated unless authorized keys were given). */
  sshPrivateKey: string | undefined;
  snippetsDir: string;
  cluster: SimCluster;
  faults: SimFaults;
  durations: SimDurations;
  stats: SimStats;
  sshConnections(): number;
  /** Called after every API request with what was asked and answered; returns an unsubscribe function. */
  onExchange(listener: (exchange: ApiExchange) => void): () => void;
  addToken(token: SimTokenSpec): void;
  stop(): Promise<void>;
}

export type SimulatorOverrides = Partial<Omit<SimOptions, 'durations'>> & { durations?: Partial<SimDurations>; logger?: Logger };

export async function startProxmoxSimulator(overrides: SimulatorOverrides = {}): Promise<ProxmoxSimulator> {
  const { logger, ...rest } = overrides;
  const options = simOptions(rest);
  const cluster = new SimCluster(options);
  let saver: SimStateSaver | undefined;
  const tasks = new SimTasks(() => saver?.changed());
  if (options.stateFile) {
    const saved = await readSimState(options.stateFile);
    if (saved) restoreState(cluster, tasks, afterInterruption(saved));
    saver = new SimStateSaver(options.stateFile, () => captureState(cluster, tasks), logger);
  }
  const locks = new VmFileLocks();
  const faults = new SimFaults(cluster, locks, tasks);
  const ownSnippetsDir = options.snippetsDir === undefined;
  const snippetsDir = options.snippetsDir ?? mkdtempSync(path.join(os.tmpdir(), 'cloudpods-sim-snippets-'));
  const sim: SimContext = { cluster, tasks, locks, faults, durations: options.durations, snippetsDir };

  const token = { id: 'root@pam!cloudpods', secret: randomUUID() };
  const tokens: SimTokenSpec[] = [token, ...options.tokens];
  const stats: SimStats = {
    requests: 0, inFlightByNode: new Map(), maxInFlightByNode: new Map(), inFlightByStorage: new Map(), maxInFlightByStorage: new Map(),
  };
  const listeners = new Set<(exchange: ApiExchange) => void>();

  const nodes = [...cluster.nodes.keys()];
  const certificates = issueSimulatorCertificates(['localhost', '127.0.0.1', '::1', options.host, ...nodes]);
  const server = https.createServer({ key: certificates.server.keyPem, cert: certificates.server.certPem, keepAliveTimeout: 30_000 },
    createApiHandler({ sim, routes, tokens, stats, logger, onExchange: (exchange) => {
      // Reads change nothing; any other request may have.
      if (exchange.method !== 'GET') saver?.changed();
      for (const l of listeners) l(exchange);
    } }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.httpsPort, options.host, () => resolve());
  });
  const httpsPort = (server.address() as AddressInfo).port;

  const hostKey = generateSshKeyPair();
  const clientKey = options.authorizedKeys.length === 0 ? generateSshKeyPair() : undefined;
  let ssh: Awaited<ReturnType<typeof startSshServer>>;
  try {
    ssh = await startSshServer({
      host: options.host, port: options.sshPort, hostKey: hostKey.private, user: options.sshUser,
      authorizedKeys: clientKey ? [clientKey.public] : options.authorizedKeys, apiPort: httpsPort,
      snippets: { remoteDir: snippetsRemoteDir, localDir: snippetsDir },
    });
  } catch (error) {
    // A half-started simulator must not keep its HTTPS server (and so its process) alive.
    server.closeAllConnections();
    server.close();
    if (ownSnippetsDir) rmSync(snippetsDir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `https://${options.host.includes(':') ? `[${options.host}]` : options.host}:${httpsPort}`,
    host: options.host, httpsPort, sshPort: ssh.port, nodes,
    tlsFingerprint: certificates.server.fingerprint256, caCertificate: certificates.ca.certPem,
    hostKeyFingerprint: sshPublicKeyFingerprint(hostKey.public),
    token, sshUser: options.sshUser, sshPrivateKey: clientKey?.private, snippetsDir,
    cluster, faults, durations: options.durations, stats,
    sshConnections: ssh.connections,
    onExchange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    addToken(spec) {
      tokens.push(spec);
    },
    async stop() {
      await ssh.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tasks.settle();
      await saver?.flush();
      if (ownSnippetsDir) rmSync(snippetsDir, { recursive: true, force: true });
    },
  };
}
