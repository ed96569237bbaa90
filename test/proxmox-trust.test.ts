import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/observability/logger.ts';
import { ProxmoxApi } from '../src/proxmox/api.ts';
import { PermissionDeniedError, UntrustedPeerError } from '../src/proxmox/errors.ts';
import { proxmoxClientFromConfig } from '../src/proxmox/from-config.ts';
import { createHttpsTransport } from '../src/proxmox/transport/https-transport.ts';
import { issueSimulatorCertificates } from '../src/sim/tls-certificate.ts';
import { assertConformanceAfterEach, startTestSimulator, type TestSimulator } from './support/proxmox-sim.ts';

const test = suite('proxmox trust: pinned TLS and SSH host keys, one connection per node, no secret in logs');
let testSim: TestSimulator;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cloudpods-trust-'));
const otherCa = issueSimulatorCertificates(['localhost']).ca;
const wrongTlsFingerprint = otherCa.fingerprint256;
const wrongHostKey = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

test.before(async () => {
  testSim = await startTestSimulator();
});
test.after(async () => {
  await testSim?.stop();
});
assertConformanceAfterEach(test, () => testSim);

async function refusal(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to be refused');
}

test('HTTPS: the pinned certificate fingerprint is accepted, any other refused before a request is sent', async () => {
  const { sim } = testSim;
  assert.is((await testSim.client('https', { trust: { fingerprint: sim.tlsFingerprint.replace(/:/g, '').toLowerCase() } }).nodes()).length, 3);
  const before = sim.stats.requests;
  const error = await refusal(() => testSim.client('https', { trust: { fingerprint: wrongTlsFingerprint } }).nodes());
  assert.instance(error, UntrustedPeerError);
  assert.match(error.message, new RegExp(`fingerprint ${sim.tlsFingerprint}, not the pinned ${wrongTlsFingerprint}`));
  assert.is(sim.stats.requests, before, 'nothing reached the API');
});

test('HTTPS: the cluster CA from a file is accepted through configuration; another CA or none is refused', async () => {
  const { sim } = testSim;
  const caFile = path.join(tmp, 'pve-root-ca.pem');
  writeFileSync(caFile, sim.caCertificate);
  const config = loadConfig({ mode: 'serve', env: {
    DATABASE_URL: 'postgres://u:p@db/x', CLOUDPODS_PROXMOX_URL: sim.url, CLOUDPODS_PROXMOX_TOKEN_ID: sim.token.id,
    CLOUDPODS_PROXMOX_TOKEN_SECRET: sim.token.secret, CLOUDPODS_PROXMOX_TLS_CA_FILE: caFile,
  } });
  const client = proxmoxClientFromConfig(config.proxmox);
  try {
    assert.is((await client.nodes()).length, 3);
  } finally {
    await client.close();
  }
  for (const trust of [{ ca: otherCa.certPem }, {}]) {
    const error = await refusal(() => testSim.client('https', { trust }).nodes());
    assert.instance(error, UntrustedPeerError, error.message);
    assert.not.ok((error as UntrustedPeerError).retryable);
  }
});

test('SSH: the pinned host key is accepted, a different one refused with a clear error and no login', async () => {
  const { sim } = testSim;
  assert.is((await testSim.client('ssh').nodes()).length, 3);
  const loginsBefore = sim.sshConnections();
  const error = await refusal(() => testSim.client('ssh', { hostKeyFingerprint: wrongHostKey }).nodes());
  assert.instance(error, UntrustedPeerError);
  assert.match(error.message, new RegExp(`SSH host key of 127\\.0\\.0\\.1:${sim.sshPort} is ${sim.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}, not the pinned ${wrongHostKey}: refusing to connect`));
  assert.is(sim.sshConnections(), loginsBefore);
});

test('SSH: pveproxy\'s certificate can be pinned inside the tunnel too', async () => {
  assert.is((await testSim.client('ssh', { trust: { fingerprint: testSim.sim.tlsFingerprint } }).nodes()).length, 3);
  const error = await refusal(() => testSim.client('ssh', { trust: { fingerprint: wrongTlsFingerprint } }).nodes());
  assert.instance(error, UntrustedPeerError);
});

test('SSH: one connection per node, reused for every call and for SFTP', async () => {
  const { sim } = testSim;
  const client = testSim.client('ssh');
  const before = sim.sshConnections();
  for (let round = 0; round < 5; round++) {
    await Promise.all([client.listVms('pve1'), client.listVms('pve2'), client.nodes(), client.storageStatus('pve1', 'local')]);
  }
  await client.uploadSnippet('pve1', 'reuse.yaml', '#cloud-config\n');
  assert.is(sim.sshConnections() - before, 3, 'pve1, pve2 and the default endpoint');
});

test('a wrong token is refused as PermissionDenied over both transports', async () => {
  for (const transport of ['https', 'ssh'] as const) {
    const error = await refusal(() => testSim.client(transport, { token: { id: testSim.sim.token.id, secret: 'wrong' } }).nodes());
    assert.instance(error, PermissionDeniedError);
    assert.is((error as PermissionDeniedError).status, 401);
  }
});

test('request logs carry parameter names, never the token secret or parameter values', async () => {
  const { sim } = testSim;
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write(chunk, _e, done) { lines.push(String(chunk)); done(); } }) });
  const api = new ProxmoxApi({
    transport: createHttpsTransport({ url: sim.url, trust: { fingerprint: sim.tlsFingerprint } }),
    tokenId: sim.token.id, tokenSecret: sim.token.secret, perNodeConcurrency: 2, perStorageConcurrency: 2,
    requestTimeoutMs: 5000, logger,
  });
  try {
    await api.call('GET', '/nodes');
    await api.call('PUT', '/nodes/pve1/qemu/9000/config', { cipassword: 'hunter2-secret-password' }).catch(() => undefined);
  } finally {
    await api.close();
  }
  const text = lines.join('');
  assert.match(text, /"request":"GET \/nodes"/);
  assert.match(text, /"params":\["cipassword"\]/);
  assert.not.match(text, new RegExp(sim.token.secret));
  assert.not.match(text, /hunter2/);
});

test.run();
