import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KeyedLimiter } from '../src/proxmox/limiter.ts';
import { assertConformanceAfterEach, startTestSimulator, type TestSimulator, type TransportName } from './support/proxmox-sim.ts';

const test = suite('proxmox concurrency: per-node and per-storage limits under 50 parallel calls');
let testSim: TestSimulator;

test.before(async () => {
  testSim = await startTestSimulator();
});
test.before.each(() => {
  testSim.sim.faults.clear();
  testSim.sim.stats.maxInFlightByNode.clear();
  testSim.sim.stats.maxInFlightByStorage.clear();
});
test.after(async () => {
  await testSim?.stop();
});
assertConformanceAfterEach(test, () => testSim);

test('the limiter queues beyond the limit in arrival order and hands slots on', async () => {
  const limiter = new KeyedLimiter(2);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.run('pve1', async () => {
    running += 1;
    most = Math.max(most, running);
    await new Promise((resolve) => setImmediate(resolve));
    order.push(i);
    running -= 1;
  })));
  assert.is(most, 2);
  assert.equal(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.is(limiter.active('pve1'), 0);
  assert.throws(() => new KeyedLimiter(0), /limit/);
});

for (const transport of ['https', 'ssh'] as TransportName[]) {
  test(`${transport}: 50 parallel calls on one node never exceed the per-node limit`, async () => {
    testSim.sim.faults.addLatency({ path: '^/nodes/pve1/', ms: 20 });
    const client = testSim.client(transport, { perNodeConcurrency: 3 });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      (i % 2 ? client.currentStatus('pve1', 9000) : client.getConfig('pve1', 9001))));
    assert.is(answers.length, 50);
    assert.is(testSim.sim.stats.maxInFlightByNode.get('pve1'), 3, 'the limit is reached and never passed');
  });
}

test('50 parallel clones onto one storage never exceed the per-storage limit', async () => {
  testSim.sim.faults.addLatency({ path: '/clone$', ms: 20 });
  const client = testSim.client('https', { perNodeConcurrency: 10, perStorageConcurrency: 2 });
  const upids = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    client.clone('pve1', 9000, { newid: 1000 + i, name: `burst-${i}`, full: true, storage: 'local-lvm' })));
  assert.is(testSim.sim.stats.maxInFlightByStorage.get('local-lvm'), 2);
  const results = await Promise.all(upids.map((upid) => client.waitForTask(upid)));
  assert.ok(results.every((r) => r.exitStatus === 'OK'));
});

test.run();
