import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PowerDnsClient } from '../../src/powerdns/client.ts';
import { createPowerDns, type PowerDns } from '../../src/powerdns/context.ts';
import { findPowerDns, installHint, startEmbeddedPowerDns } from '../../src/powerdns/embedded.ts';
import { reportFailure } from './report.ts';

/**
 * A real PowerDNS for a suite: `PDNS_API_URL` (with `PDNS_API_KEY`, `PDNS_DNS_HOST`, `PDNS_DNS_PORT`) if set,
 * else `pdns_server` with the sqlite3 backend in a temporary directory on free ports, else a testcontainers
 * container when a Docker engine answers; otherwise the suite fails saying how to install it.
 */
export interface TestPowerDns {
  source: 'PDNS_API_URL' | 'pdns_server' | 'testcontainers';
  apiUrl: string;
  apiKey: string;
  dnsHost: string;
  dnsPort: number;
  /** A client of its own, for arranging zones and looking at what the controller did. */
  client: PowerDnsClient;
  /** Configuration overrides for startTestApp, so the app talks to this PowerDNS. */
  overrides: Record<string, unknown>;
  /** A fresh context (client, writer, zones) as the system builds it. */
  context(options?: { serializeWrites?: boolean }): PowerDns;
  /** A zone with a unique name under `test.`, so suites sharing a PDNS_API_URL do not meet. */
  aZone(prefix?: string, kind?: string): Promise<string>;
  /** Outage tests: stop the server and start it again (same ports, same data). Only for pdns_server. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  close(): Promise<void>;
}

export function startTestPowerDns(): Promise<TestPowerDns> {
  return reportFailure('startTestPowerDns', createTestPowerDns);
}

async function createTestPowerDns(): Promise<TestPowerDns> {
  if (process.env.PDNS_API_URL) {
    const apiUrl = process.env.PDNS_API_URL;
    return harness('PDNS_API_URL', {
      apiUrl, apiKey: process.env.PDNS_API_KEY ?? '',
      dnsHost: process.env.PDNS_DNS_HOST ?? new URL(apiUrl).hostname, dnsPort: Number(process.env.PDNS_DNS_PORT ?? 53),
    }, unsupported, unsupported, async () => {});
  }
  if (findPowerDns()) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cloudpods-pdns-'));
    const server = await startEmbeddedPowerDns({ dataDir: dir });
    return harness('pdns_server', server, server.stop, server.start, async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    });
  }
  const container = await startContainerIfDockerAnswers();
  if (container) return container;
  throw new Error(`these tests need a real PowerDNS: set PDNS_API_URL, or ${installHint}, or run a Docker engine`);
}

async function unsupported(): Promise<void> {
  throw new Error('stopping and starting PowerDNS needs the pdns_server this harness started');
}

interface Endpoint {
  apiUrl: string;
  apiKey: string;
  dnsHost: string;
  dnsPort: number;
}

function harness(source: TestPowerDns['source'], endpoint: Endpoint, stopServer: () => Promise<void>,
  startServer: () => Promise<void>, close: () => Promise<void>): TestPowerDns {
  const client = new PowerDnsClient({ apiUrl: endpoint.apiUrl, apiKey: endpoint.apiKey });
  let zones = 0;
  return {
    source, ...endpoint, client, stopServer, startServer, close,
    overrides: {
      'powerdns.apiUrl': endpoint.apiUrl, 'powerdns.apiKey': endpoint.apiKey,
      'powerdns.dnsHost': endpoint.dnsHost, 'powerdns.dnsPort': endpoint.dnsPort,
    },
    context: ({ serializeWrites = true } = {}) => createPowerDns({ ...endpoint, serializeWrites }),
    async aZone(prefix = 'z', kind = 'Native') {
      const name = `${prefix}-${process.pid}-${++zones}-${randomBytes(2).toString('hex')}.test`;
      await client.createZone(name, { kind });
      return name;
    },
  };
}

async function startContainerIfDockerAnswers(): Promise<TestPowerDns | null> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return null;
  }
  const apiKey = randomBytes(12).toString('hex');
  const container = await new GenericContainer('powerdns/pdns-auth-47:4.7.3')
    .withEnvironment({ PDNS_AUTH_API_KEY: apiKey })
    .withExposedPorts(8081, '53/udp')
    .withWaitStrategy(Wait.forHttp('/api/v1/servers/localhost', 8081).withHeaders({ 'X-API-Key': apiKey }))
    .start();
  const host = container.getHost();
  return harness('testcontainers', {
    apiUrl: `http://${host}:${container.getMappedPort(8081)}`, apiKey,
    dnsHost: host, dnsPort: container.getMappedPort('53/udp'),
  }, unsupported, unsupported, async () => { await container.stop(); });
}
