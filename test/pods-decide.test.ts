import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decidePod, type PodOutcome } from '../controllers/pod/decide.ts';
import type { LoadedPod, PodObservation } from '../controllers/pod/observe.ts';
import type { VmFacts } from '../controllers/pod/plan.ts';
import { needsLook, type ResyncPod } from '../controllers/pod/resync.ts';
import type { Condition } from '../src/db/schema.ts';

const test = suite('pod controller: what a client sees of each decision');
const settings = { clonesPerNode: 3, dns: true, taskPollMs: 100, agentPollMs: 2_000, capacityRetryMs: 30_000,
  cloneQueueRecheckMs: 5_000, hookPollMs: 1_000, hookRecheckMs: 30_000 };

const ready = (status: 'True' | 'False', reason: string, generation = 1): Condition =>
  ({ type: 'Ready', status, reason, message: '', lastTransitionTime: '', observedGeneration: generation });
const provisioned: Condition = { type: 'Provisioned', status: 'True', reason: 'Provisioned', message: '',
  lastTransitionTime: '', observedGeneration: 1 };
const pod = (fields: Partial<LoadedPod['row']> = {}, tenantSuspended = false): LoadedPod => ({
  row: { id: 'p1', tenant_id: 't1', name: 'web', status: 'active', vmid: 1000, node: 'pve1', power_state: 'running',
    disk_gb: 10, generation: 1, observed_generation: 1, conditions: [ready('True', 'Active'), provisioned],
    deletion_requested_at: null,
    task_upid: null, reboot_requested_at: null, rebooted_at: null, ip_addresses: ['192.0.2.10'], ...fields } as LoadedPod['row'],
  template: { code: 'ubuntu-24.04' } as LoadedPod['template'],
  tenantSuspended,
});
/** As a direct read shows it: the configuration already as asked. */
const owned = (status: 'running' | 'stopped' = 'running', lock?: string): VmFacts => ({ state: 'owned', status, lock,
  ...(lock ? {} : { config: { write: { set: {}, delete: [] }, disk: 'scsi0', diskGiB: 10, digest: 'd' } }) });
const seen = (vm: VmFacts | undefined, extra: Partial<PodObservation> = {}): PodObservation =>
  ({ task: null, vm: vm ? { facts: vm, node: 'pve1' } : undefined, hasAddress: true, volumesRemaining: false, hooks: null, ...extra });
const fresh = { vmid: null, node: null, status: 'pending' as const, conditions: [], ip_addresses: [] };
const clear = { event: 'pod.pre_create' as const, state: 'clear' as const };

test('decisions, one row per case: the step, the Ready reason, the phase, a terminal reason and the next look', () => {
  const cases: Array<[name: string, loaded: LoadedPod, seen: PodObservation, outcome: PodOutcome | undefined,
    step: string | undefined, ready?: string, phase?: string, terminal?: string, requeue?: number | null]> = [
    ['settled: Ready Active, nothing to do', pod(), seen(owned()), undefined, undefined, 'Active', 'active', undefined, null],
    ['a new pod is placed, saying Provisioning', pod(fresh), seen(undefined, { hooks: clear }), undefined, 'place',
      'Provisioning', 'pending'],
    ['no node can take it: NoCapacity, looked at again later', pod(fresh), seen(undefined, { hooks: clear }),
      { kind: 'unplaced', placement: { ok: false, reason: 'NoCapacity', message: 'no room' } }, undefined, 'NoCapacity',
      'pending', undefined, 30_000],
    ['the template VM is gone: terminal TemplateInvalid', pod(fresh), seen(undefined, { hooks: clear }),
      { kind: 'unplaced', placement: { ok: false, reason: 'TemplateInvalid', message: 'VM 9000 does not exist' } },
      undefined, 'TemplateInvalid', 'error', 'TemplateInvalid'],
    ['placed without VM: cloned, saying Cloning', pod({ ...fresh, vmid: 1000, node: 'pve1' }),
      seen({ state: 'absent' }, { hooks: clear }), undefined, 'clone', 'Cloning', 'provisioning'],
    ['every clone slot taken: CloneQueued', pod({ ...fresh, vmid: 1000, node: 'pve1' }), seen({ state: 'absent' }, { hooks: clear }),
      { kind: 'clone-busy' }, undefined, 'CloneQueued', 'provisioning', undefined, 5_000],
    ['a clone task running: Cloning, looked at again at the task poll', pod({ ...fresh, vmid: 1000, node: 'pve1' }),
      seen(undefined, { task: { state: 'running', type: 'qmclone' } }), undefined, undefined, 'Cloning', 'provisioning',
      undefined, 100],
    ['a locked VM: Locked', pod({ generation: 2 }), seen(owned('running', 'backup')), undefined, undefined, 'Locked', 'active',
      undefined, 2_000],
    ['no address within the quota: QuotaExceeded', pod({ generation: 2 }), seen(owned(), { hasAddress: false }),
      { kind: 'no-address', quota: true, message: 'ipv4: 5 used + 1 requested exceeds the limit of 5' }, undefined,
      'QuotaExceeded', 'active', undefined, 30_000],
    ['stopped behind our back, running asked: started, saying Starting', pod({ generation: 2 }), seen(owned('stopped')),
      undefined, 'start', 'Starting', 'active'],
    ['a suspended tenant\'s pod is not started', pod({ generation: 2 }, true), seen(owned('stopped')), undefined, undefined,
      'TenantSuspended', 'active', undefined, null],
    ['no IPs yet and the agent silent: WaitingForAgent', pod({ ip_addresses: [], generation: 2 }), seen(owned()),
      { kind: 'agent-silent' }, undefined, 'WaitingForAgent', 'active', undefined, 2_000],
    ['a new generation settles once its names follow', pod({ generation: 2 }), seen(owned()), undefined, 'follow-names'],
    ['names followed: Ready Active for the new generation', pod({ generation: 2 }), seen(owned()), { kind: 'names-followed' },
      undefined, 'Active', 'active', undefined, null],
    ['a failed clone of a missing template: cleared, then terminal', pod({ ...fresh, vmid: 1000, node: 'pve1', task_upid: 'UPID' }),
      seen(undefined, { task: { state: 'failed', type: 'qmclone', message: 'no such VM', missingSource: true, vmidTaken: false } }),
      undefined, 'clear-failed-task', 'TemplateInvalid', 'error'],
    ['deleting: pre_destroy pending keeps everything, WaitingForHooks', pod({ deletion_requested_at: new Date(), generation: 2 }),
      seen(owned(), { hooks: { event: 'pod.pre_destroy', state: 'pending', hooks: ['approve'], inFlight: false } }), undefined,
      undefined, 'WaitingForHooks', 'deleting', undefined, 30_000],
    ['deleting: a given-up pre_destroy keeps the VM, HookFailed, not terminal', pod({ deletion_requested_at: new Date(), generation: 2 }),
      seen(owned(), { hooks: { event: 'pod.pre_destroy', state: 'failed', hook: 'approve', error: 'HTTP 500', jobId: 7 } }),
      undefined, undefined, 'HookFailed', 'deleting', undefined, 30_000],
    ['a given-up pre_create: terminal HookFailed', pod(fresh),
      seen(undefined, { hooks: { event: 'pod.pre_create', state: 'failed', hook: 'approve', error: 'HTTP 500', jobId: 7 } }),
      undefined, undefined, 'HookFailed', 'error', 'HookFailed'],
    ['deleting a running VM: stopped, saying Deleting', pod({ deletion_requested_at: new Date(), generation: 2 }),
      seen(owned(), { hooks: { event: 'pod.pre_destroy', state: 'clear' } }), undefined, 'stop', 'Deleting', 'deleting'],
    ['deleting: DNS records still going, Deleting', pod({ deletion_requested_at: new Date(), generation: 2 }),
      seen({ state: 'absent' }, { hooks: { event: 'pod.pre_destroy', state: 'clear' } }), { kind: 'dns-pending' }, undefined,
      'Deleting', 'deleting', undefined, 2_000],
    ['the VM moved to another node: the row follows first', pod({ generation: 2 }),
      { ...seen(owned()), vm: { facts: owned(), node: 'pve2' } }, undefined, 'record-node'],
  ];
  for (const [name, loaded, observation, outcome, step, readyReason, phase, terminal, requeue] of cases) {
    const decision = decidePod(loaded, observation, outcome, settings);
    assert.is(decision.step?.kind, step, `${name}: step`);
    const readyOf = decision.conditions?.find((c) => 'type' in c && c.type === 'Ready') as { reason: string } | undefined;
    assert.is(decision.terminal?.reason ?? readyOf?.reason, readyReason, `${name}: Ready reason`);
    if (phase !== undefined) assert.is(decision.phase, phase, `${name}: phase`);
    assert.is(decision.terminal?.reason, terminal, `${name}: terminal`);
    if (requeue !== undefined) assert.is(decision.requeueAfterMs ?? null, requeue, `${name}: next look`);
  }
});

test('a configured running VM with changes held for the next boot says NeedsReboot; a clear gate clears HookFailed', () => {
  const configured = decidePod(pod({ generation: 2 }), seen(owned()), { kind: 'configured', pending: ['cores'] }, settings);
  const needsReboot = configured.conditions?.find((c) => 'type' in c && c.type === 'NeedsReboot') as { status: string; message: string };
  assert.equal([needsReboot.status, needsReboot.message], ['True', 'applied at the next reboot: cores']);

  const failed: Condition = { type: 'HookFailed', status: 'True', reason: 'HookFailed', message: '', lastTransitionTime: '',
    observedGeneration: 1 };
  const cleared = decidePod(pod({ ...fresh, conditions: [failed], generation: 2 }), seen(undefined, { hooks: clear }), undefined, settings);
  assert.equal(cleared.conditions?.find((c) => 'type' in c && c.type === 'HookFailed'),
    { type: 'HookFailed', status: 'False', reason: 'Cleared', message: 'no blocking pod.pre_create hook holds the pod any more' });
});

test('the resync\'s bulk look: only pods that are not settled or whose VM differs are enqueued', () => {
  const settled: ResyncPod = { id: 'p1', generation: 1, conditions: [ready('True', 'Active')], task_upid: null,
    deletion_requested_at: null, vmid: 1000, node: 'pve1', power_state: 'running' };
  const vm = { type: 'qemu', vmid: 1000, node: 'pve1', status: 'running', tags: 'cloudpods;cloudpods-p1' } as never;
  const cases: Array<[string, Partial<ResyncPod>, Record<string, unknown> | undefined, boolean]> = [
    ['settled, its VM as asked', {}, {}, false],
    ['a new generation', { generation: 2 }, {}, true],
    ['a task recorded', { task_upid: 'UPID' }, {}, true],
    ['being deleted', { deletion_requested_at: new Date() }, {}, true],
    ['its VM gone', {}, undefined, true],
    ['its VM stopped behind our back: health\'s to see, not a restart', {}, { status: 'stopped' }, false],
    ['its VM started behind our back while asked stopped', { power_state: 'stopped' }, { status: 'running' }, true],
    ['its VM moved', {}, { node: 'pve2' }, true],
    ['its VM locked', {}, { lock: 'backup' }, true],
    ['a VM without our tag at its VMID', {}, { tags: 'someone-else' }, true],
    ['stopped as asked', { power_state: 'stopped' }, { status: 'stopped' }, false],
  ];
  for (const [name, pod, seenVm, expected] of cases) {
    assert.is(needsLook({ ...settled, ...pod }, seenVm === undefined ? undefined : { ...(vm as object), ...seenVm } as never),
      expected, name);
  }
});

test.run();
