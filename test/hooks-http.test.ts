import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllowedNetworks } from '../src/hooks/address-guard.ts';
import { deliverHttp, type HttpDelivery } from '../src/hooks/http-delivery.ts';
import { signatureHeaders } from '../src/hooks/signing.ts';
import { startHookReceiver, type HookReceiver } from './support/hook-receiver.ts';

const test = suite('http hook delivery');
const loopback = parseAllowedNetworks(['127.0.0.0/8']);
const secret = `whsec_${Buffer.from('a test signing key of 32 bytes!!').toString('base64')}`;
const receivers: HookReceiver[] = [];
const receiver = async (...args: Parameters<typeof startHookReceiver>) => {
  const started = await startHookReceiver(...args);
  receivers.push(started);
  return started;
};

test.after.each(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const attempt = (url: string, fields: Partial<HttpDelivery> = {}) => {
  const body = JSON.stringify({ id: 'msg_1_h', event: 'pod.post_create', data: { name: 'web-1' } });
  return deliverHttp({ url, body, headers: { ...signatureHeaders(secret, 'msg_1_h', body), authorization: 'Bearer hook-token' },
    timeoutMs: 5000, allowedNetworks: loopback, ...fields });
};

test('HTTPS with a verified certificate: one signed JSON POST with the hook headers; 2xx is delivered', async () => {
  const https = await receiver({ tls: true, secret });
  const outcome = await attempt(`https://localhost:${https.port}/hooks/cloudpods?x=1`, { ca: https.caPem });
  assert.equal(outcome, { ok: true, detail: 'HTTP 204' });
  assert.is(https.received.length, 1);
  const [request] = https.received;
  assert.equal([request!.method, request!.path, request!.verified], ['POST', '/hooks/cloudpods?x=1', true]);
  assert.is(request!.headers['content-type'], 'application/json');
  assert.is(request!.headers.authorization, 'Bearer hook-token');
  assert.is(request!.headers['user-agent'], 'CloudPods-Hooks/1');
  assert.equal(JSON.parse(request!.body).data, { name: 'web-1' });
});

test('an untrusted certificate is a failure: TLS is verified', async () => {
  const https = await receiver({ tls: true, secret });
  const outcome = await attempt(`https://localhost:${https.port}/`);
  assert.is(outcome.ok, false);
  assert.match((outcome as { reason: string }).reason, /CERT|certificate/i);
  assert.is(https.received.length, 0);
});

test('non-2xx answers fail with the status and the start of the body', async () => {
  const server = await receiver({ answer: () => ({ status: 500, body: `database down\n${'x'.repeat(500)}` }) });
  const outcome = await attempt(`${server.origin}/`);
  assert.is(outcome.ok, false);
  const reason = (outcome as { reason: string }).reason;
  assert.ok(reason.startsWith('HTTP 500: database down xxx'), reason);
  assert.ok(reason.length <= 'HTTP 500: '.length + 200, `short: ${reason.length}`);
});

test('a redirect is not followed: the 302 is a failure naming where it pointed', async () => {
  const server = await receiver({ answer: (n) => (n === 1 ? { status: 302, headers: { location: '/elsewhere' } }
    : { status: 200 }) });
  const outcome = await attempt(`${server.origin}/hook`);
  assert.equal(outcome, { ok: false, reason: 'HTTP 302: redirect to /elsewhere not followed (hooks never follow redirects)' });
  assert.equal(server.received.map((r) => r.path), ['/hook'], 'the Location was never requested');
});

test('a receiver that never answers hits the timeout', async () => {
  const server = await receiver({ answer: () => 'hang' });
  const started = Date.now();
  const outcome = await attempt(`${server.origin}/`, { timeoutMs: 1000 });
  const took = Date.now() - started;
  assert.equal(outcome, { ok: false, reason: 'no answer within 1 s (timeout)' });
  assert.ok(took >= 950 && took < 4000, `took ${took} ms`);
  assert.is(server.received.length, 1, 'the request arrived; the answer did not');
});

test('a refused connection says so', async () => {
  const server = await receiver();
  const port = server.port;
  await server.close();
  const outcome = await attempt(`http://127.0.0.1:${port}/`);
  assert.is(outcome.ok, false);
  assert.match((outcome as { reason: string }).reason, /^ECONNREFUSED/);
});

test('loopback by address and by name is refused until allow-listed, and nothing is sent', async () => {
  const server = await receiver();
  for (const url of [`http://127.0.0.1:${server.port}/`, `http://localhost:${server.port}/`,
    `http://[::ffff:127.0.0.1]:${server.port}/`, `http://2130706433:${server.port}/`]) {
    const outcome = await attempt(url, { allowedNetworks: [] });
    assert.is(outcome.ok, false, url);
    assert.match((outcome as { reason: string }).reason, /refused address.*loopback.*cloudpods\.webhooks\.allowed_networks/, url);
  }
  assert.is(server.received.length, 0);
  for (const url of [`http://127.0.0.1:${server.port}/`, `http://localhost:${server.port}/`]) {
    assert.equal(await attempt(url), { ok: true, detail: 'HTTP 204' }, url);
  }
  assert.is(server.received.length, 2);
});

test('the metadata address is refused even with loopback allowed, and tried once it is listed itself', async () => {
  const refused = await attempt('http://169.254.169.254/latest/meta-data/', { timeoutMs: 500 });
  assert.is(refused.ok, false);
  assert.match((refused as { reason: string }).reason, /^refused address 169\.254\.169\.254 \(link-local \(cloud metadata\)\)/);
  const listed = await attempt('http://169.254.169.254/latest/meta-data/', { timeoutMs: 500,
    allowedNetworks: parseAllowedNetworks(['169.254.169.254/32']) });
  assert.not.match((listed as { reason?: string }).reason ?? '', /refused address/);
});

test('the socket goes to the address the guard checked: a name resolving to loopback and a public address skips loopback', async () => {
  const server = await receiver();
  const resolve = (_host: string, _options: unknown, callback: (e: null, a: Array<{ address: string; family: number }>) => void) =>
    callback(null, [{ address: '127.0.0.1', family: 4 }, { address: '192.0.2.1', family: 4 }]);
  const outcome = await attempt(`http://rebind.example.test:${server.port}/`, { allowedNetworks: [], resolve, timeoutMs: 500 });
  assert.is(outcome.ok, false, 'the public (unreachable) address was used');
  assert.is(server.received.length, 0, 'loopback was never connected to');
  const allowed = await attempt(`http://rebind.example.test:${server.port}/`, { resolve });
  assert.equal(allowed, { ok: true, detail: 'HTTP 204' });
  assert.is(server.received[0]!.headers.host, `rebind.example.test:${server.port}`, 'the URL\'s name, connected by the checked address');
});

test.run();
