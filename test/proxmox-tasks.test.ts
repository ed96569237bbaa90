import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ProxmoxClient } from '../src/proxmox/client.ts';
import { TaskFailedError, TransientError } from '../src/proxmox/errors.ts';
import { taskLogTail, taskOutcome } from '../src/proxmox/tasks.ts';
import { assertConformanceAfterEach, startTestSimulator, type TestSimulator } from './support/proxmox-sim.ts';
import { waitFor } from './support/wait.ts';

const test = suite('proxmox tasks: success, warnings, failure, and waiting again after a restart');
let testSim: TestSimulator;
let client: ProxmoxClient;
const node = 'pve1';

test.before(async () => {
  testSim = await startTestSimulator({ durations: { cloneMs: 600 } });
  client = testSim.client('https');
});
test.after(async () => {
  await testSim?.stop();
});
assertConformanceAfterEach(test, () => testSim);

test('exit statuses: OK and WARNINGS: n succeed, anything else fails', () => {
  const cases: Array<[string, ReturnType<typeof taskOutcome>]> = [
    ['OK', { ok: true, warnings: 0 }], ['WARNINGS: 3', { ok: true, warnings: 3 }], ['job errors', { ok: false }],
    ['unexpected status', { ok: false }], ['WARNINGS: x', { ok: false }], ['', { ok: false }],
  ];
  for (const [status, outcome] of cases) assert.equal(taskOutcome(status), outcome, status);
});

test('a task with warnings succeeds and reports them', async () => {
  testSim.sim.faults.forceTaskOutcome({ type: 'qmstart', id: '9001', warnings: 2 });
  const newid = await client.nextId();
  await client.waitForTask(await client.clone(node, 9001, { newid, full: true }));
  testSim.sim.faults.forceTaskOutcome({ type: 'qmstart', id: String(newid), warnings: 2 });
  const result = await client.waitForTask(await client.start(node, newid));
  assert.equal([result.exitStatus, result.warnings], ['WARNINGS: 2', 2]);
  await client.waitForTask(await client.stop(node, newid));
});

test('a failed task raises TaskFailed with the exit status and the log tail', async () => {
  testSim.sim.faults.forceTaskOutcome({ type: 'qmclone', fail: 'clone failed: storage migration failed: connection reset' });
  const upid = await client.clone(node, 9000, { newid: await client.nextId(), full: true });
  try {
    await client.waitForTask(upid);
    assert.unreachable('the task should fail');
  } catch (error) {
    assert.instance(error, TaskFailedError);
    const failed = error as TaskFailedError;
    assert.equal([failed.upid, failed.exitStatus], [upid, 'clone failed: storage migration failed: connection reset']);
    assert.equal(failed.logTail, ['TASK ERROR: clone failed: storage migration failed: connection reset']);
    assert.is(failed.kind, 'task-failed');
  }
});

test('the log tail is the last lines of a long log', async () => {
  const newid = await client.nextId();
  testSim.sim.faults.forceTaskOutcome({ type: 'qmclone', id: '9000', warnings: 70 });
  const upid = await client.clone(node, 9000, { newid, full: true });
  await client.waitForTask(upid);
  const tail = await taskLogTail(client.api, upid, 50);
  assert.is(tail.length, 50);
  assert.is(tail.at(-1), 'TASK WARNINGS: 70');
  assert.is(tail[0], 'WARN: simulated warning 22');
});

test('a UPID persisted before a restart is awaited by a new client, and found among active tasks', async () => {
  const first = testSim.client('https');
  const upid = await first.clone(node, 9000, { newid: await first.nextId(), name: 'restart-1', full: true });
  const persisted = JSON.stringify({ upid }); // what a controller writes into status
  const abort = new AbortController();
  let polls = 0;
  const stopCounting = testSim.sim.onExchange((exchange) => {
    if (decodeURIComponent(exchange.path) === `/nodes/${node}/tasks/${upid}/status`) polls += 1;
  });
  const waiting = first.waitForTask(upid, { signal: abort.signal }).catch((error: unknown) => error);
  await waitFor('the first waiter to poll the task', () => polls, (n) => n > 0);
  stopCounting();
  abort.abort(new Error('process stopping'));
  assert.instance(await waiting, Error);
  await first.close();

  const second = testSim.client('ssh');
  const { upid: restored } = JSON.parse(persisted) as { upid: string };
  assert.ok((await second.activeTasks(node, 9000)).some((task) => task.upid === restored));
  const result = await second.waitForTask(restored);
  assert.is(result.exitStatus, 'OK');
});

test('waiting gives up as transient after its timeout while the task runs on', async () => {
  const upid = await client.clone(node, 9000, { newid: await client.nextId(), full: true });
  try {
    await client.waitForTask(upid, { timeoutMs: 100 });
    assert.unreachable('should time out');
  } catch (error) {
    assert.instance(error, TransientError);
    assert.match((error as Error).message, /still running after 100 ms/);
  }
  assert.is((await client.waitForTask(upid)).exitStatus, 'OK');
});

test.run();
