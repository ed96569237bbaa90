import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { changeOf, orderOf, statusOf, type CloudPodSpec } from '../src/kube/pod-mapping.ts';
import { refusalOf, refusedStatus } from '../src/kube/status-report.ts';
import { backoffDelayMs } from '../src/kube/reflector.ts';
import { statusDiffers } from '../src/kube/resource-writes.ts';
import { NameRefusedError } from '../src/dns/zones.ts';
import { AppError } from '../src/errors.ts';
import { PodOrderError } from '../src/pods/orders.ts';
import type { Pod } from '../src/pods/store.ts';
import { ClusterRefusal } from '../src/proxmox/cluster-checks.ts';
import { PlanRequiredError, QuotaExceededError, TenantSuspendedError } from '../src/tenancy/errors.ts';

/** Pure pieces of the bridge: spec mapping, status from a row, refusals, status diff, backoff. */
const test = suite('kube mapping');

const spec: CloudPodSpec = { template: 'ubuntu-24.04', cpuCores: 2, memoryMb: 2048, diskGb: 10 };
const ready = { type: 'Ready', status: 'True' as const, reason: 'Active', message: 'running',
  lastTransitionTime: '2026-01-01T00:00:00.000Z', observedGeneration: 4 };
const pod = (fields: Partial<Pod> = {}): Pod => ({ id: 'p1', cpu_cores: 2, memory_mb: 2048, disk_gb: 10, power_state: 'running',
  status: 'active', generation: 4, observed_generation: 4, conditions: [ready], vmid: 1001, node: 'pve1',
  ip_addresses: ['192.0.2.5'], health_status: null, ...fields } as Pod);
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

test('healthCheck: camelCase to the REST probe; changeOf compares it with the row\'s defaults filled in', () => {
  const probe = { type: 'http' as const, path: '/healthz', timeoutSeconds: 3 };
  assert.equal(orderOf('t1', 'web-1', { ...spec, healthCheck: probe }).health_check,
    { type: 'http', path: '/healthz', timeout_seconds: 3 });
  const held = pod({ health_check: { type: 'http', port: 80, path: '/healthz', expected_status: 200, interval_seconds: 30,
    timeout_seconds: 3, failure_threshold: 3 } });
  assert.equal(changeOf(held, { ...spec, healthCheck: probe }), {}, 'the same probe, defaults left out');
  assert.equal(changeOf(held, { ...spec, healthCheck: { ...probe, port: 8080 } }),
    { health_check: { type: 'http', path: '/healthz', timeout_seconds: 3, port: 8080 } });
  assert.equal(changeOf(held, spec), { health_check: null }, 'removed');
  assert.equal(changeOf(pod({ health_check: null }), spec), {});
  assert.equal(changeOf(pod({ health_check: null }), { ...spec, healthCheck: { type: 'tcp' } }),
    { health_check: { type: 'tcp' } }, 'an invalid probe goes to the order, which names the field');
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
  const unhealthy = statusOf(pod({ health_status: 'False', health_reason: 'VMStopped', health_message: 'VM 1001 is stopped',
    health_changed_at: new Date('2026-01-01T00:00:00Z') }), resource(3));
  assert.equal(unhealthy.conditions!.map((c) => [c.type, c.status, c.reason]), [['Ready', 'True', 'Active'],
    ['Healthy', 'False', 'VMStopped']], 'the health controller\'s record shows as the Healthy condition');
});

/** A PostgreSQL error as node-postgres throws it. */
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

test('refusals: the reason each error was thrown with; what is worth a retry is no refusal', () => {
  const cases: Array<[string, unknown, string | null]> = [
    ['over quota', new QuotaExceededError([{ resource: 'cpu_cores', requested: 4, used: 6, limit: 8 }]), 'QuotaExceeded'],
    ['suspended tenant', new TenantSuspendedError('acme'), 'TenantSuspended'],
    ['plan too small', new PlanRequiredError('wordpress', 'business'), 'PlanRequired'],
    ['inactive template', new PodOrderError(400, 'validation_error',
      [{ name: 'template', messages: ['no such active template'] }], 'TemplateInvalid'), 'TemplateInvalid'],
    ['unknown app option', new PodOrderError(400, 'validation_error',
      [{ name: 'app_options.x', messages: ['unknown option'] }], 'SpecInvalid'), 'SpecInvalid'],
    ['zone not allowed', new NameRefusedError('zone', 'tenant acme may not use the zone example.org', 'example.org'),
      'ZoneNotAllowed'],
    ['zone not served', new NameRefusedError('zone', 'example.org is not a zone this platform serves'), 'SpecInvalid'],
    ['node missing', new ClusterRefusal('node', 'NodeNotFound', 'no node x in the Proxmox cluster'), 'NodeNotFound'],
    ['storage without disks', new ClusterRefusal('storage_pool', 'StorageNotForDisks', 'storage local holds no disks'),
      'StorageNotForDisks'],
    ['owned by the other door', new AppError(409, 'managed_by_api', 'pod web is managed through the REST API', undefined,
      'ManagedElsewhere'), 'ManagedElsewhere'],
    ['a NUL byte PostgreSQL refuses', pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'), 'SpecInvalid'],
    ['a unique violation (a race)', pgError('23505', 'duplicate key value'), 'NameConflict'],
    ['no reason thrown', new AppError(409, 'conflict', 'something'), 'OrderRefused'],
    ['the pool is saturated', new Error('timeout exceeded when trying to connect'), null],
    ['a lost connection', pgError('57P01', 'terminating connection due to administrator command'), null],
    ['a bug', new TypeError('x is undefined'), null],
  ];
  for (const [name, error, reason] of cases) assert.is(refusalOf(error)?.reason ?? null, reason, name);
  assert.equal(refusalOf(new TenantSuspendedError('acme')),
    { reason: 'TenantSuspended', message: 'tenant acme is suspended: it cannot create or start pods' }, 'with its message');
  assert.is(refusalOf(pgError('22021', 'invalid byte sequence'))?.message,
    'text must not contain NUL bytes and must be valid Unicode', 'as the REST API says it');
});

test('refused status: the transition time holds while the reason stays', () => {
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
