import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';

/**
 * A tenant's probe run by the health cycle against the pod's own address: here the address is a loopback one the
 * admins allow, served by a real HTTP server, so the probe's answer decides the pod's Healthy condition.
 */
const test = suite('health checks: tenant probes');
let platform: Platform;
let server: Server;
let answer = 200;
let podId: string;

test.before(async () => {
  platform = await startPlatform({ transport: 'https' });
  server = createServer((_req, res) => { res.statusCode = answer; res.end(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const created = await platform.app.request('POST', '/api/cloud-pods', { token: platform.token,
    body: { name: 'probed', template: 'ubuntu-24.04', cpu_cores: 1, memory_mb: 1024, disk_gb: 10 } });
  assert.is(created.status, 202, JSON.stringify(created.body));
  podId = (await waitForPod(platform, created.body.pod.id, 'active',
    (p) => p?.status.phase === 'active' && p.status.ip_addresses.length > 0)).id;
  // The pod's address as if its pool were on this machine, allowed by the admins, and its probe of that address.
  await platform.app.system.settings.update({ 'cloudpods.webhooks.allowed_networks': ['127.0.0.0/8'] },
    { type: 'system', id: 'test' });
  const port = (server.address() as AddressInfo).port;
  await platform.database.db.updateTable('cloud_pods').set({ ip_addresses: JSON.stringify(['127.0.0.1']),
    health_check: JSON.stringify({ type: 'http', port, path: '/healthz', expected_status: 200, interval_seconds: 30,
      timeout_seconds: 2, failure_threshold: 3 }) }).where('id', '=', podId).execute();
});
test.after(async () => {
  server?.close();
  await platform?.stop();
});

const healthy = async () => {
  const pod = (await platform.app.request('GET', `/api/cloud-pods/${podId}`, { token: platform.token })).body.pod;
  const condition = pod.status.conditions.find((c: any) => c.type === 'Healthy');
  return [condition?.status, condition?.reason, pod.status.health?.failures];
};

test('the probe answering as expected: Healthy; answering otherwise: ProbeFailed, counted; answering again: Healthy', async () => {
  await platform.app.system.health!.checkFleet();
  assert.equal(await healthy(), ['True', 'Healthy', 0]);
  answer = 503;
  await platform.app.system.health!.checkFleet();
  assert.equal(await healthy(), ['False', 'ProbeFailed', 1]);
  answer = 200;
  await platform.app.system.health!.checkFleet();
  assert.equal(await healthy(), ['True', 'Healthy', 0]);
});

test.run();
