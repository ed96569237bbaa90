import type { Test } from 'uvu';
import { ProxmoxApi } from '../../src/proxmox/api.ts';
import { ProxmoxClient } from '../../src/proxmox/client.ts';
import { noSnippetStore, SftpSnippetStore } from '../../src/proxmox/snippets.ts';
import { createHttpsTransport } from '../../src/proxmox/transport/https-transport.ts';
import { SshConnections } from '../../src/proxmox/transport/ssh-connections.ts';
import { createSshTransport } from '../../src/proxmox/transport/ssh-transport.ts';
import type { TlsTrust } from '../../src/proxmox/transport/tls-pinning.ts';
import { fastDurations } from '../../src/sim/proxmox/options.ts';
import { snippetsRemoteDir, startProxmoxSimulator, type ProxmoxSimulator, type SimulatorOverrides } from '../../src/sim/proxmox/simulator.ts';
import { checkRequest, checkResponse, loadApiSchemas, type ApiSchema } from './proxmox-schema.ts';
import { reportFailure } from './report.ts';

/**
 * A simulator for one suite, with fast durations, clients for either transport, and the schema check on every
 * request and answer that passes through it.
 */

export type TransportName = 'https' | 'ssh';

export interface TestClientOptions {
  trust?: TlsTrust;
  hostKeyFingerprint?: string;
  token?: { id: string; secret: string };
  perNodeConcurrency?: number;
  perStorageConcurrency?: number;
  requestTimeoutMs?: number;
  /** Default true: snippets over SFTP for the HTTPS transport too. */
  snippetsOverSsh?: boolean;
}

export interface TestSimulator {
  sim: ProxmoxSimulator;
  conformance: Conformance;
  client(transport: TransportName, options?: TestClientOptions): ProxmoxClient;
  stop(): Promise<void>;
}

let schemas: ApiSchema[] | null | undefined;

export function startTestSimulator(overrides: SimulatorOverrides = {}): Promise<TestSimulator> {
  return reportFailure('startTestSimulator', () => createTestSimulator(overrides));
}

async function createTestSimulator(overrides: SimulatorOverrides): Promise<TestSimulator> {
  const sim = await startProxmoxSimulator({ ...overrides, durations: { ...fastDurations, ...overrides.durations } });
  schemas ??= loadApiSchemas();
  const conformance = new Conformance(schemas);
  sim.onExchange((exchange) => conformance.record(exchange.method, exchange.path, exchange.params, exchange.status, exchange.data));
  const clients: ProxmoxClient[] = [];
  return {
    sim,
    conformance,
    client(transport, options = {}) {
      const client = buildClient(sim, transport, options);
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await sim.stop();
    },
  };
}

function buildClient(sim: ProxmoxSimulator, transport: TransportName, options: TestClientOptions): ProxmoxClient {
  const connections = new SshConnections({
    defaultEndpoint: { host: sim.host, port: sim.sshPort },
    // Every node is its own endpoint, as on a real cluster, so the suite sees one connection per node.
    nodeEndpoints: Object.fromEntries(sim.nodes.map((node) => [node, { host: sim.host, port: sim.sshPort }])),
    user: sim.sshUser, privateKey: sim.sshPrivateKey!,
    hostKeyFingerprints: [options.hostKeyFingerprint ?? sim.hostKeyFingerprint],
    connectTimeoutMs: options.requestTimeoutMs ?? 5000,
  });
  const wire = transport === 'https'
    ? createHttpsTransport({ url: sim.url, trust: options.trust ?? { fingerprint: sim.tlsFingerprint } })
    : createSshTransport({ connections, ...(options.trust?.fingerprint ? { tlsFingerprint: options.trust.fingerprint } : {}) });
  const token = options.token ?? sim.token;
  const api = new ProxmoxApi({
    transport: { name: wire.name, send: (request) => wire.send(request), close: async () => { await wire.close(); await connections.close(); } },
    tokenId: token.id, tokenSecret: token.secret,
    perNodeConcurrency: options.perNodeConcurrency ?? 8, perStorageConcurrency: options.perStorageConcurrency ?? 4,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
  });
  const snippets = options.snippetsOverSsh === false ? noSnippetStore
    : new SftpSnippetStore(connections, { storage: 'local', directory: snippetsRemoteDir });
  return new ProxmoxClient({ api, snippets, taskWait: { pollIntervalMs: 20, timeoutMs: 10_000 } });
}

/** Collects schema problems of every exchange; a suite asserts none after each test. */
export class Conformance {
  readonly #schemas: ApiSchema[] | null;
  #problems: string[] = [];
  checkedRequests = 0;

  constructor(schemas: ApiSchema[] | null) {
    this.#schemas = schemas;
  }

  get enabled(): boolean {
    return this.#schemas !== null;
  }

  record(method: string, path: string, params: Record<string, string>, status: number, data: unknown): void {
    if (!this.#schemas) return;
    this.checkedRequests += 1;
    for (const schema of this.#schemas) {
      this.#problems.push(...checkRequest(schema, method, path, params));
      if (status === 200) this.#problems.push(...checkResponse(schema, method, path, data));
    }
  }

  /** The problems since the last call, forgotten: for tests that send a bad request on purpose. */
  takeProblems(): string[] {
    const problems = [...new Set(this.#problems)];
    this.#problems = [];
    return problems;
  }

  /** Throws naming every problem since the last call, and forgets them (uvu runs after-each hooks again on failure). */
  assertClean(): void {
    const problems = this.takeProblems();
    if (problems.length > 0) throw new Error(`requests or answers off the Proxmox API schema:\n  ${problems.join('\n  ')}`);
  }
}

/** Fails each test whose requests or answers do not conform to the schema. */
export function assertConformanceAfterEach(test: Test, current: () => TestSimulator | undefined): void {
  test.after.each(() => current()?.conformance.assertClean());
}
