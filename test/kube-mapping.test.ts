import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { changeOf, orderOf, statusOf, type CloudPodSpec } from '../src/kube/pod-mapping.ts';
import { refusalReason, refusedStatus } from '../src/kube/status-report.ts';
import { backoffDelayMs } from '../src/kube/reflector.ts';
import { statusDiffers } from '../src/kube/resource-writes.ts';
import type { Pod } from '../src/pods/store.ts';

/** Pure pieces of the bridge: spec mapping, status from a row, refusals, status diff, backoff. */
const test = suite('kube mapping');

const spec: CloudPodSpec = { template: 'ubuntu-24.04', cpuCores: 2, memoryMb: 2048, diskGb: 10 };
const ready = { type: 'Ready', status: 'True' as const, reason: 'Active', message: 'running',
  lastTransitionTime: '2026-01-01T00:00:00.000Z', observedGeneration: 4 };
const pod = (fields: Partial<Pod> = {}): Pod => ({ id: 'p1', cpu_cores: 2, memory_mb: 2048, disk_gb: 10, power_state: 'running',
  status: 'active', generation: 4, observed_generation: 4, conditions: [ready], vmid: 1001, node: 'pve1',
  ip_addresses: ['192.0.2.5'], ...fields } as Pod);
const resource = (generation: number, previous?: number) => ({ metadata: { generation }, spec,
  ...(previous ? { status: { observedGeneration: previous } } : {}) });

test('orderOf: camelCase spec to the REST order, with the REST defaults', () => {
  assert.equal(orderOf('t1', 'web-1', spec), { tenantId: 't1', name: 'web-1', templateCode: 'ubuntu-24.04', cpu_cores: 2,
    memory_mb: 2048, disk_gb: 10, hostname: null, zone: null, ssh_keys: [], power_state: 'running', app_options: {}, node: null });
});

test('changeOf: only the mutable fields that differ', () => {
  const cases: Array<[Partial<CloudPodSpec>, Record<string, unknown>]> = [
    [{}, {}],
    [{ cpuCores: 3 }, { cpu_cores: 3 }],
    [{ diskGb: 20, memoryMb: 4096 }, { memory_mb: 4096, disk_gb: 20 }],
    [{ powerState: 'stopped' }, { power_state: 'stopped' }],
    [{ powerState: 'running' }, {}],
  ];
  for (const [edit, expected] of cases) assert.equal(changeOf(pod(), { ...spec, ...edit }), expected, JSON.stringify(edit));
});

test('changeOf: the name compares qualified (a label in its zone is the row\'s full name); set, changed, removed', () => {
  const named = pod({ hostname: 'web.example.com', zone: 'example.com' });
  const cases: Array<[Pod, Partial<CloudPodSpec>, Record<string, unknown>]> = [
    [named, { hostname: 'web', zone: 'example.com' }, {}],
    [named, { hostname: 'web.example.com', zone: 'example.com' }, {}],
    [named, { hostname: 'web.example.com' }, {}],
    [named, { hostname: 'www', zone: 'example.com' }, { hostname: 'www', zone: 'example.com' }],
    [named, { hostname: 'web.example.org' }, { hostname: 'web.example.org', zone: null }],
    [named, {}, { hostname: null, zone: null }],
    [pod({ hostname: null, zone: null }), { hostname: 'web', zone: 'example.com' }, { hostname: 'web', zone: 'example.com' }],
  ];
  for (const [row, edit, expected] of cases) assert.equal(changeOf(row, { ...spec, ...edit }), expected, JSON.stringify(edit));
});

test('statusOf: the resource generation is observed only when the row converged on the same spec', () => {
  const cases: Array<[string, Pod, ReturnType<typeof resource>, number | undefined]> = [
    ['converged', pod(), resource(3), 3],
    ['row still working', pod({ observed_generation: 3 }), resource(3, 2), 2],
    ['spec not yet in the row', pod(), { ...resource(4, 3), spec: { ...spec, cpuCores: 4 } }, 3],
    ['never observed', pod({ observed_generation: 1, generation: 2 }), resource(1), undefined],
  ];
  for (const [name, row, res, expected] of cases) {
    const status = statusOf(row, res);
    assert.is(status.observedGeneration, expected, name);
    assert.is(status.conditions![0]!.observedGeneration, expected, `${name}: conditions follow`);
  }
  const status = statusOf(pod(), resource(1));
  assert.equal([status.phase, status.vmid, status.node, status.ipAddresses, status.podId], ['active', 1001, 'pve1', ['192.0.2.5'], 'p1']);
  assert.is('vmid' in statusOf(pod({ vmid: null }), resource(1)), false, 'absent, not null');
});

test('refusals: reasons by error code; the transition time holds while the reason stays', () => {
  const cases: Array<[string, string, string]> = [
    ['resource_limit_exceeded', '', 'QuotaExceeded'], ['tenant_suspended', '', 'TenantSuspended'],
    ['plan_required', '', 'PlanRequired'], ['conflict', '', 'NameConflict'],
    ['validation_error', 'template: no such active template', 'TemplateInvalid'],
    ['validation_error', 'app_options.x: unknown option', 'SpecInvalid'], ['other', '', 'OrderRefused'],
  ];
  for (const [code, message, reason] of cases) assert.is(refusalReason(code, message), reason, code);
  assert.is(refusalReason('validation_error', 'node: no node x', { fields: [], reason: 'NodeNotFound' }), 'NodeNotFound',
    'the reason the order named wins');
  const first = refusedStatus(undefined, 1, 'QuotaExceeded', 'cpu', new Date('2026-01-01T00:00:00Z'));
  const again = refusedStatus(first, 1, 'QuotaExceeded', 'cpu', new Date('2026-01-02T00:00:00Z'));
  assert.is(statusDiffers(first, again), false, 'nothing to write the second time');
  assert.equal([first.phase, first.conditions![0]!.status, first.observedGeneration], ['pending', 'False', 1]);
  const volume = refusedStatus({ phase: 'attached', slot: 'scsi1', conditions: [] }, 2, 'PodNotFound', 'no pod', new Date(), 'CloudPodVolume');
  assert.equal(Object.keys(volume).sort(), ['conditions', 'observedGeneration'], 'no phase where pending is none, nothing of the old row');
});

test('backoff: 800 ms doubling to 30 s, jittered to between half and all of it', () => {
  assert.is(backoffDelayMs(1, () => 1), 800);
  assert.is(backoffDelayMs(1, () => 0), 400);
  assert.is(backoffDelayMs(3, () => 1), 3200);
  assert.is(backoffDelayMs(20, () => 1), 30_000);
});

test.run();
