import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllowedNetworks } from '../src/hooks/address-guard.ts';
import { runProbe, type ProbeOptions } from '../src/health/probe.ts';
import { healthCheckSchema } from '../src/health/probe-spec.ts';
import { freePort } from '../src/net/free-port.ts';
import { startHookReceiver, type Answer, type HookReceiver } from './support/hook-receiver.ts';

const test = suite('health probes: runner');
/** Loopback is refused to tenants' probes unless an admin lists it; these tests list it, as an admin would a pool. */
const guard = { allowedNetworks: parseAllowedNetworks(['127.0.0.0/8']) };
const options = (fields: Partial<ProbeOptions> = {}): ProbeOptions => ({ timeoutMs: 2000, guard, ...fields });
const closers: Array<() => Promise<void>> = [];

test.after.each(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const receiver = async (answer: (n: number) => Answer, tls = false): Promise<HookReceiver> => {
  const started = await startHookReceiver({ tls, answer });
  closers.push(() => started.close());
  return started;
};

const tcpServer = async (): Promise<{ port: number; accepted: () => number }> => {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
};

const probe = (input: unknown) => healthCheckSchema.parse(input);

test('TCP: a listening port passes, with its latency', async () => {
  const server = await tcpServer();
  const outcome = await runProbe(probe({ type: 'tcp', port: server.port }), '127.0.0.1', options());
  assert.is(outcome.ok, true);
  assert.ok(outcome.ok && outcome.latencyMs >= 0 && outcome.latencyMs < 2000);
});

test('TCP: a closed port fails with the connection error', async () => {
  const port = await freePort();
  const outcome = await runProbe(probe({ type: 'tcp', port }), '127.0.0.1', options());
  assert.is(outcome.ok, false);
  assert.is(!outcome.ok && outcome.reason, 'ProbeFailed');
  assert.match(!outcome.ok ? outcome.message : '', /ECONNREFUSED/);
});

test('HTTP: the expected status passes; the probe GETs the path on the pod\'s address', async () => {
  const server = await receiver(() => ({ status: 200, body: 'ok' }));
  const outcome = await runProbe(probe({ type: 'http', port: server.port, path: '/healthz?full=1' }), '127.0.0.1', options());
  assert.is(outcome.ok, true);
  assert.equal(server.received.map((r) => [r.method, r.path, r.headers['user-agent']]),
    [['GET', '/healthz?full=1', 'CloudPods-Probe/1']]);
});

test('HTTP: another status fails naming both; a redirect is not followed', async () => {
  const failing = await receiver(() => ({ status: 503, body: 'down' }));
  assert.equal(await runProbe(probe({ type: 'http', port: failing.port, path: '/' }), '127.0.0.1', options()),
    { ok: false, reason: 'ProbeFailed', message: 'HTTP 503, expected 200' });

  const redirecting = await receiver(() => ({ status: 302, headers: { location: '/login' } }));
  assert.equal(await runProbe(probe({ type: 'http', port: redirecting.port, path: '/' }), '127.0.0.1', options()),
    { ok: false, reason: 'ProbeFailed', message: 'HTTP 302 (redirect to /login not followed), expected 200' });
  assert.is(redirecting.received.length, 1);

  // A tenant expecting the redirect says so.
  const expected = await runProbe(probe({ type: 'http', port: redirecting.port, path: '/', expected_status: 302 }),
    '127.0.0.1', options());
  assert.is(expected.ok, true);
});

test('HTTPS: a self-signed certificate is accepted (a VM\'s certificate is not verified)', async () => {
  const server = await receiver(() => ({ status: 204 }), true);
  const outcome = await runProbe(probe({ type: 'https', port: server.port, path: '/ready', expected_status: 204 }),
    '127.0.0.1', options());
  assert.is(outcome.ok, true);
  assert.is(server.received[0]?.path, '/ready');
});

test('a server that never answers is a timeout', async () => {
  const server = await receiver(() => 'hang');
  const outcome = await runProbe(probe({ type: 'http', port: server.port, path: '/' }), '127.0.0.1',
    options({ timeoutMs: 300 }));
  assert.equal(outcome, { ok: false, reason: 'ProbeTimeout', message: 'no answer within 0.3 s' });
});

test('a refused address is never connected to: loopback without the allow-list, the metadata service', async () => {
  const server = await tcpServer();
  const loopback = await runProbe(probe({ type: 'tcp', port: server.port }), '127.0.0.1',
    options({ guard: { allowedNetworks: [] } }));
  assert.is(!loopback.ok && loopback.reason, 'ProbeRefused');
  assert.match(!loopback.ok ? loopback.message : '', /127\.0\.0\.1 \(loopback\).*cloudpods\.webhooks\.allowed_networks/);
  assert.is(server.accepted(), 0);

  const metadata = await runProbe(probe({ type: 'http', port: 80, path: '/latest/meta-data/' }), '169.254.169.254',
    options({ timeoutMs: 500 }));
  assert.is(!metadata.ok && metadata.reason, 'ProbeRefused');
  const mapped = await runProbe(probe({ type: 'tcp', port: server.port }), '::ffff:127.0.0.2',
    options({ guard: { allowedNetworks: [] } }));
  assert.is(!mapped.ok && mapped.reason, 'ProbeRefused');
  assert.is(server.accepted(), 0);
});

test('the caller\'s signal stops an attempt', async () => {
  const server = await receiver(() => 'hang');
  const stop = new AbortController();
  const pending = runProbe(probe({ type: 'http', port: server.port, path: '/' }), '127.0.0.1', options({ signal: stop.signal }));
  stop.abort(new Error('shutdown'));
  assert.equal(await pending, { ok: false, reason: 'ProbeFailed', message: 'the probe was stopped' });
});

test.run();

const spec = suite('health probes: spec');

spec('defaults are filled in, http(s) ports follow the scheme', () => {
  assert.equal(healthCheckSchema.parse({ type: 'tcp', port: 22 }),
    { type: 'tcp', port: 22, interval_seconds: 30, timeout_seconds: 5, failure_threshold: 3 });
  assert.equal(healthCheckSchema.parse({ type: 'https', path: '/' }), { type: 'https', port: 443, path: '/',
    expected_status: 200, interval_seconds: 30, timeout_seconds: 5, failure_threshold: 3 });
  assert.is(healthCheckSchema.parse({ type: 'http', path: '/' }).port, 80);
});

spec('bounds, unknown fields and a timeout not shorter than the interval are refused, each by its path', () => {
  const problems = (input: unknown) => {
    const result = healthCheckSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
  };
  assert.equal(problems({ type: 'tcp' }), ['port']);
  assert.equal(problems({ type: 'tcp', port: 70_000 }), ['port']);
  assert.equal(problems({ type: 'icmp' }), ['type']);
  assert.equal(problems({ type: 'tcp', port: 22, host: '10.0.0.1' }), ['']);
  assert.equal(problems({ type: 'http', path: 'healthz' }), ['path']);
  assert.equal(problems({ type: 'http', path: '/a b' }), ['path']);
  assert.equal(problems({ type: 'http', path: '/', expected_status: 99 }), ['expected_status']);
  assert.equal(problems({ type: 'tcp', port: 22, interval_seconds: 2 }), ['interval_seconds']);
  assert.equal(problems({ type: 'tcp', port: 22, interval_seconds: 10, timeout_seconds: 10 }), ['timeout_seconds']);
  assert.equal(problems({ type: 'tcp', port: 22, failure_threshold: 0 }), ['failure_threshold']);
});

spec.run();
