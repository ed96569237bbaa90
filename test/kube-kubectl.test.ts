import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { podsPath, startKubePlatform, type KubePlatform } from './support/kube.ts';
import { reportFailure } from './support/report.ts';
import { waitFor } from './support/wait.ts';

/** Acceptance with the real kubectl against the fake apiserver and the whole platform on the simulator. */
const test = suite('kubectl');
const run = promisify(execFile);
let k: KubePlatform;
test.before(async () => {
  await reportFailure('kubectl', () => run('kubectl', ['version', '--client']).catch(() => {
    throw new Error('kubectl is not installed: run `apt-get install kubernetes-client` (Debian), or put kubectl on PATH');
  }));
  k = await startKubePlatform();
});
test.after(async () => { await k?.stop(); });

const example = path.join(import.meta.dirname, '../examples/cloudpod.yaml');
const volumeExample = path.join(import.meta.dirname, '../examples/cloudpodvolume.yaml');
const kubectl = async (...args: string[]) => (await run('kubectl', ['-n', k.namespace, ...args],
  { env: { ...process.env, KUBECONFIG: k.api.kubeconfigPath }, timeout: 60_000 })).stdout;

// One test: the steps are a user's session with the examples (fixed names), each starting where the last one ended.
test('a session as the README has it: apply the examples and wait for Ready, get the tables, delete', async () => {
  // kubectl apply -f examples/cloudpod.yaml, then wait for Ready.
  assert.match(await kubectl('apply', '-f', example), /cloudpod\.cloudpods\.mpanel\.io\/web-1 created/);
  assert.ok(k.api.calls.some((c) => c.method === 'POST' && c.path.includes('fieldValidation=Strict')),
    'kubectl leaves field validation to the server, as with a real one');
  assert.match(await kubectl('wait', '--for=condition=Ready', 'cloudpod/web-1', '--timeout=60s'), /condition met/);

  // kubectl apply -f examples/cloudpodvolume.yaml: the volume is attached to web-1.
  assert.match(await kubectl('apply', '-f', volumeExample), /cloudpodvolume\.cloudpods\.mpanel\.io\/web-1-data created/);
  assert.match(await kubectl('wait', '--for=condition=Ready', 'cloudpodvolume/web-1-data', '--timeout=60s'), /condition met/);
  const [header, row] = (await kubectl('get', 'cvol')).trim().split('\n');
  assert.equal(header!.split(/\s+/), ['NAME', 'PHASE', 'READY', 'POD', 'SIZE', 'SLOT', 'AGE']);
  assert.equal(row!.split(/\s+/).slice(0, 6), ['web-1-data', 'attached', 'True', 'web-1', '20', 'scsi1']);

  // Once the health controller has looked at the pod, its Healthy condition reaches the CloudPod too.
  await k.platform.app.system.health!.checkFleet();
  await waitFor('the CloudPod\'s Healthy condition', async () => (await k.call('GET', podsPath(k.namespace, 'web-1'))).body,
    (r) => r.status?.conditions?.some((c: any) => c.type === 'Healthy' && c.status === 'True'));

  // kubectl get cloudpods shows Phase, Ready, Healthy, IP, Node, VMID and Age.
  const output = await kubectl('get', 'cloudpods');
  // The category lists each kind as its own table: the CloudPod's first, then the volume's.
  const [pods, volumes] = output.trim().split('\n\n');
  assert.match(volumes ?? '', /cloudpodvolume\.cloudpods\.mpanel\.io\/web-1-data\s+attached\s+True/);
  const [podHeader, podRow] = pods!.trim().split('\n');
  assert.equal(podHeader!.split(/\s+/), ['NAME', 'PHASE', 'READY', 'HEALTHY', 'IP', 'NODE', 'VMID', 'AGE']);
  const cells = podRow!.split(/\s+/);
  // `cloudpods` is also the category of all four kinds, so kubectl names rows with their kind.
  assert.equal(cells.slice(0, 4), ['cloudpod.cloudpods.mpanel.io/web-1', 'active', 'True', 'True']);
  assert.match(cells[4]!, /^192\.0\.2\.\d+$/);
  const vmid = Number(cells[6]);
  assert.ok(k.platform.sim.sim.cluster.vms.get(vmid)?.running, `VM ${vmid} runs`);
  assert.match(await kubectl('get', 'cvm', 'web-1', '-o', 'jsonpath={.status.phase}'), /^active$/, 'short name');
  const single = (await kubectl('get', 'cloudpod')).trim().split('\n');
  assert.equal(single[1]!.split(/\s+/).slice(0, 3), ['web-1', 'active', 'True'], 'the singular names one kind');

  // kubectl delete completes once the disk, then the VM are gone.
  const disk = k.platform.sim.sim.cluster.vms.get(vmid)!.config.scsi1;
  assert.ok(disk, 'the volume is on the VM');
  assert.match(await kubectl('delete', '-f', volumeExample, '--timeout=60s'), /deleted/);
  assert.is(k.platform.sim.sim.cluster.vms.get(vmid)!.config.scsi1, undefined, 'the disk is gone when kubectl returns');
  assert.match(await kubectl('delete', '-f', example, '--timeout=60s'), /deleted/);
  assert.is(k.platform.sim.sim.cluster.vms.get(vmid), undefined, 'the VM is gone when kubectl returns');
  assert.is((await k.call('GET', podsPath(k.namespace, 'web-1'))).status, 404);
});

test.run();
