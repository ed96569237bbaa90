import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bootDisk, diskSizeGiB } from '../src/proxmox/vm-disks.ts';
import { desiredVmConfig } from '../controllers/pod/desired-config.ts';
import { ownedBy, ownerMarker, ownerTag } from '../src/proxmox/vm-ownership.ts';
import { planPodStep, type PodFacts, type PodStep, type VmFacts } from '../controllers/pod/plan.ts';
import type { BlockingEvent } from '../src/hooks/config.ts';
import { choosePlacement, chooseVmid, type NodeCandidate } from '../controllers/pod/placement.ts';
import { podPhase } from '../controllers/pod/status.ts';

const test = suite('pod controller decisions');

const base: PodFacts = { deleting: false, vmid: 1000, node: 'pve1', task: null, hasAddress: true, desiredPower: 'running',
  rebootWanted: false, ipsKnown: true, specObserved: true, ranAtGeneration: false, volumesRemaining: false, hooks: null };
const empty = { set: {}, delete: [] };
const running: VmFacts = { state: 'owned', status: 'running', lock: undefined };
const withConfig = (write = empty, diskGiB = 10, status: 'running' | 'stopped' = 'running'): VmFacts =>
  ({ state: 'owned', status, lock: undefined, config: { write, disk: 'scsi0', diskGiB, digest: 'd' } });

test('planPodStep: one next step for every situation', () => {
  const cases: Array<[string, Partial<PodFacts>, VmFacts, string]> = [
    ['a new pod is placed first', { vmid: null, node: null }, { state: 'absent' }, 'place'],
    ['a placed pod without VM is cloned', {}, { state: 'absent' }, 'clone'],
    ['a running task is waited on', { task: { state: 'running', type: 'qmclone' } }, running, 'wait-task'],
    ['a finished task is cleared', { task: { state: 'ok', type: 'qmstart' } }, running, 'task-done'],
    ['a foreign VM at our VMID: choose another', {}, { state: 'foreign' }, 'new-vmid'],
    ['a locked VM is waited on', {}, { state: 'owned', status: 'stopped', lock: 'clone' }, 'wait-lock'],
    ['no address yet: allocate one', { hasAddress: false, specObserved: false }, withConfig(), 'allocate-address'],
    ['spec not yet converged: read the configuration', { specObserved: false }, running, 'read-config'],
    ['a configuration difference is written', { specObserved: false }, withConfig({ set: { cores: '2' }, delete: [] }), 'configure'],
    ['a smaller disk is grown', { specObserved: false }, withConfig(empty, 4), 'resize'],
    ['a stopped VM that should run is started', {}, { state: 'owned', status: 'stopped', lock: undefined }, 'start'],
    ['a VM that ran for this generation and was stopped by someone else is left to health', { ranAtGeneration: true },
      { state: 'owned', status: 'stopped', lock: undefined }, 'stopped-out-of-band'],
    ['a running VM that should stop is stopped', { desiredPower: 'stopped' }, running, 'stop'],
    ['a wanted reboot', { rebootWanted: true }, running, 'reboot'],
    ['unknown IPs are read', { ipsKnown: false }, running, 'read-ips'],
    ['nothing to do', {}, running, 'settled'],
    ['steady state needs no configuration read', { specObserved: true }, running, 'settled'],
    ['deleting a running VM stops it first', { deleting: true }, running, 'stop'],
    ['deleting a stopped VM destroys it', { deleting: true }, { state: 'owned', status: 'stopped', lock: undefined }, 'destroy'],
    ['deleting waits for a lock', { deleting: true }, { state: 'owned', status: 'stopped', lock: 'backup' }, 'wait-lock'],
    ['a broken leftover of ours (no boot disk) is destroyed to clone again', { specObserved: false },
      { state: 'owned', status: 'stopped', lock: undefined, config: { write: empty, disk: undefined, diskGiB: undefined, digest: 'd' } },
      'destroy'],
    ['deleting removes the pod\'s volumes first', { deleting: true, volumesRemaining: true }, running, 'remove-volumes'],
    ['deleting with no VM finishes', { deleting: true }, { state: 'absent' }, 'finish-delete'],
    ['deleting never touches a foreign VM', { deleting: true }, { state: 'foreign' }, 'finish-delete'],
  ];
  for (const [name, facts, vm, expected] of cases) {
    assert.is(planWithClearHooks({ ...base, ...facts }, vm).kind, expected, name);
  }
});

/** As observing does before such steps: the hooks' gate is read (here: nothing holds the pod). */
function planWithClearHooks(facts: PodFacts, vm: VmFacts): PodStep {
  const step = planPodStep(facts, vm, { diskGiB: 10 });
  return step.kind === 'check-hooks'
    ? planPodStep({ ...facts, hooks: { event: step.event, state: 'clear' } }, vm, { diskGiB: 10 }) : step;
}

test('blocking hooks: asked for before provisioning and teardown only, and what they say', () => {
  const pending = (event: BlockingEvent, inFlight = false): PodFacts['hooks'] =>
    ({ event, state: 'pending', hooks: ['approve'], inFlight });
  const failed = (event: BlockingEvent): PodFacts['hooks'] =>
    ({ event, state: 'failed', hook: 'approve', error: 'HTTP 500', jobId: 7 });
  const stopped: VmFacts = { state: 'owned', status: 'stopped', lock: undefined };
  const cases: Array<[string, Partial<PodFacts>, VmFacts, PodStep]> = [
    ['a new pod asks before it is placed', { vmid: null, node: null }, { state: 'absent' },
      { kind: 'check-hooks', event: 'pod.pre_create' }],
    ['a placed pod passed its gate: cloned without asking again', {}, { state: 'absent' }, { kind: 'clone' }],
    ['a deleting pod asks before anything is torn down', { deleting: true, volumesRemaining: true }, running,
      { kind: 'check-hooks', event: 'pod.pre_destroy' }],
    ['a deleting pod asks even without a VM', { deleting: true, vmid: null, node: null }, { state: 'absent' },
      { kind: 'check-hooks', event: 'pod.pre_destroy' }],
    ['the pre_create answer does not answer for deletion', { deleting: true, hooks: failed('pod.pre_create') }, running,
      { kind: 'check-hooks', event: 'pod.pre_destroy' }],
    ['steady state never asks', {}, running, { kind: 'settled' }],
    ['a running pod being changed never asks', { specObserved: false }, withConfig({ set: { cores: '2' }, delete: [] }),
      { kind: 'configure' }],
    ['a running task is waited on before asking', { deleting: true, task: { state: 'running', type: 'qmclone' } }, running,
      { kind: 'wait-task', type: 'qmclone' }],
    ['pre_create pending: the pod waits unplaced', { vmid: null, node: null, hooks: pending('pod.pre_create') },
      { state: 'absent' }, { kind: 'wait-for-hooks', event: 'pod.pre_create', hooks: ['approve'], soon: false }],
    ['pre_create under way: look again soon', { vmid: null, node: null, hooks: pending('pod.pre_create', true) },
      { state: 'absent' }, { kind: 'wait-for-hooks', event: 'pod.pre_create', hooks: ['approve'], soon: true }],
    ['pre_create given up: not placed', { vmid: null, node: null, hooks: failed('pod.pre_create') }, { state: 'absent' },
      { kind: 'hook-failed', event: 'pod.pre_create', hook: 'approve', error: 'HTTP 500', jobId: 7 }],
    ['pre_create clear: placed', { vmid: null, node: null, hooks: { event: 'pod.pre_create', state: 'clear' } },
      { state: 'absent' }, { kind: 'place' }],
    ['pre_destroy pending: the VM stays', { deleting: true, hooks: pending('pod.pre_destroy') }, stopped,
      { kind: 'wait-for-hooks', event: 'pod.pre_destroy', hooks: ['approve'], soon: false }],
    ['pre_destroy pending: the volumes stay', { deleting: true, volumesRemaining: true, hooks: pending('pod.pre_destroy') },
      running, { kind: 'wait-for-hooks', event: 'pod.pre_destroy', hooks: ['approve'], soon: false }],
    ['pre_destroy given up: the VM stays', { deleting: true, hooks: failed('pod.pre_destroy') }, running,
      { kind: 'hook-failed', event: 'pod.pre_destroy', hook: 'approve', error: 'HTTP 500', jobId: 7 }],
    ['a failed pre_create does not hold the deletion', { deleting: true,
      hooks: { event: 'pod.pre_destroy', state: 'clear' } }, stopped, { kind: 'destroy' }],
    ['pre_destroy clear: torn down', { deleting: true, hooks: { event: 'pod.pre_destroy', state: 'clear' } }, running,
      { kind: 'stop' }],
  ];
  for (const [name, facts, vm, expected] of cases) {
    assert.equal(planPodStep({ ...base, ...facts }, vm, { diskGiB: 10 }), expected, name);
  }
});

test('failed tasks: a missing template is terminal, a taken VMID means another, anything else is retried', () => {
  const failed = (type: string, flags: { missingSource?: boolean; vmidTaken?: boolean } = {}) => planPodStep(
    { ...base, task: { state: 'failed', type, message: 'boom', missingSource: false, vmidTaken: false, ...flags } },
    { state: 'absent' }, { diskGiB: 10 });
  assert.equal(failed('qmclone', { missingSource: true }), { kind: 'task-failed', retry: 'terminal', reason: 'TemplateInvalid', message: 'boom' });
  assert.is((failed('qmclone', { vmidTaken: true }) as any).retry, 'new-vmid');
  assert.is((failed('qmstart') as any).retry, 'same');
});

test('placement: requested node, template default, least loaded, shared storage and capacity', () => {
  const node = (name: string, online = true, avail = 100, committedMemMb = 0, provisioning = 0): NodeCandidate =>
    ({ node: name, online, storageAvailBytes: avail * 1024 ** 3, maxMemBytes: 64 * 1024 ** 3, committedMemMb, provisioning });
  const nodes = [node('pve1', true, 100, 8000), node('pve2', true, 100, 1000), node('pve3', false)];
  const request = { requestedNode: null, defaultNode: null, templateNode: 'pve1', crossNodeClone: true, diskGiB: 10, memoryMb: 2048 };
  assert.equal(choosePlacement(request, nodes), { ok: true, node: 'pve2' }, 'least loaded');
  assert.equal(choosePlacement(request, [node('pve1', true, 100, 8000, 0), node('pve2', true, 100, 1000, 3)]),
    { ok: true, node: 'pve1' }, 'the shortest clone queue first');
  assert.equal(choosePlacement({ ...request, defaultNode: 'pve1' }, nodes), { ok: true, node: 'pve1' }, 'template default');
  assert.equal(choosePlacement({ ...request, crossNodeClone: false }, nodes), { ok: true, node: 'pve1' },
    'local template storage: the template node only');
  assert.equal(choosePlacement({ ...request, requestedNode: 'pve3' }, nodes).ok, false, 'requested node offline');
  assert.equal((choosePlacement({ ...request, diskGiB: 500 }, nodes) as any).reason, 'NoCapacity');
  assert.equal(chooseVmid({ min: 100, max: 103 }, new Set([100, 101, 103])), 102);
  assert.is(chooseVmid({ min: 100, max: 101 }, new Set([100, 101])), undefined);
});

test('ownership: the owner tag or the clone marker, and only of this pod', () => {
  const id = '3f0c7a3e-0000-4000-8000-000000000001';
  assert.ok(ownedBy(id, { tags: `cloudpods;${ownerTag(id)}` }));
  assert.ok(ownedBy(id, { description: `${ownerMarker(id)}\n` }));
  assert.not.ok(ownedBy(id, { tags: 'cloudpods;cloudpods-someone-else', description: 'hand made' }));
  assert.not.ok(ownedBy(id, {}));
});

test('disks: the boot disk and its size in GiB', () => {
  assert.is(bootDisk({ boot: 'order=virtio0;net0', virtio0: 'local-lvm:vm-1-disk-0,size=8G', scsi0: 'x' }), 'virtio0');
  assert.is(bootDisk({ ide2: 'local:cloudinit,media=cdrom', scsi0: 'local-lvm:vm-1-disk-0,size=8G' }), 'scsi0');
  assert.equal([diskSizeGiB('a:b,size=32G'), diskSizeGiB('a:b,size=512M'), diskSizeGiB('a:b,size=1T'), diskSizeGiB('a:b')],
    [32, 0.5, 1024, undefined]);
});

test('desired configuration: network from the pool address, keys, marks and user-data', () => {
  const config = desiredVmConfig({
    pod: { id: 'p1', name: 'web', cpu_cores: 2, memory_mb: 2048, ssh_keys: ['ssh-ed25519 AAAA x'] },
    templateBridge: 'vmbr0',
    addresses: [{ address: '192.0.2.10', family: 4, prefix: 24, gateway: '192.0.2.1', bridge: 'vmbr1', vlan: 42,
      nameservers: ['192.0.2.53'] }],
    userDataVolid: 'local:snippets/cloudpods-p1.yaml',
  });
  assert.equal(config, { name: 'web', cores: 2, memory: 2048, tags: ['cloudpods', 'cloudpods-p1'],
    description: 'managed-by=cloudpods pod=p1', agent: '1', ciuser: 'cloudpods', sshkeys: ['ssh-ed25519 AAAA x'],
    ipconfig0: 'ip=192.0.2.10/24,gw=192.0.2.1', nameserver: '192.0.2.53', net0: 'virtio,bridge=vmbr1,tag=42',
    cicustom: 'user=local:snippets/cloudpods-p1.yaml' });
});

test('phases: pending, provisioning, active, stopped, error, deleting', () => {
  const input = { deleting: false, settled: false, terminal: false, placed: false, desiredPower: 'running' as const,
    current: 'pending' as const, provisioned: false };
  assert.is(podPhase(input), 'pending');
  assert.is(podPhase({ ...input, placed: true }), 'provisioning');
  assert.is(podPhase({ ...input, settled: true }), 'active');
  assert.is(podPhase({ ...input, settled: true, desiredPower: 'stopped' }), 'stopped');
  assert.is(podPhase({ ...input, placed: true, provisioned: true, current: 'active' }), 'active', 'a change keeps the phase');
  assert.is(podPhase({ ...input, terminal: true }), 'error');
  assert.is(podPhase({ ...input, deleting: true, terminal: true }), 'deleting');
});

test.run();
