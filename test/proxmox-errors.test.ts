import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyExitStatus, classifyNetworkError, classifyResponse } from '../src/proxmox/classify.ts';
import {
  ConflictError, InvalidParametersError, LockedError, ProxmoxError, TaskFailedError,
} from '../src/proxmox/errors.ts';

const test = suite('proxmox error classifier');

test('responses are classified by message first, then by status', () => {
  const cases: Array<{ status: number; message: string; errors?: Record<string, string>; kind: string; extra?: object }> = [
    { status: 500, message: 'VM is locked (clone)\n', kind: 'locked', extra: { lock: 'clone' } },
    { status: 500, message: 'VM is locked (backup)', kind: 'locked', extra: { lock: 'backup' } },
    { status: 500, message: "can't lock file '/var/lock/qemu-server/lock-105.conf' - got timeout", kind: 'locked',
      extra: { lock: 'file' } },
    { status: 500, message: "can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout",
      kind: 'locked', extra: { lock: 'file' } },
    { status: 500, message: "Configuration file 'nodes/pve1/qemu-server/117.conf' does not exist", kind: 'not-found' },
    { status: 500, message: "storage 'nfs' does not exist", kind: 'not-found' },
    { status: 404, message: 'Not Found', kind: 'not-found' },
    { status: 500, message: 'unable to create VM 105: config file already exists', kind: 'conflict',
      extra: { reason: 'already-exists' } },
    { status: 400, message: 'Parameter verification failed.', errors: { vmid: 'VM 105 already exists' },
      kind: 'conflict', extra: { reason: 'already-exists' } },
    { status: 500, message: 'VM 105 is running - destroy failed', kind: 'conflict', extra: { reason: 'running' } },
    { status: 500, message: "can't remove VM 105 - protection mode enabled", kind: 'conflict',
      extra: { reason: 'protected' } },
    { status: 500, message: 'detected modified configuration - file changed by other user? Try again.',
      kind: 'conflict', extra: { reason: 'modified' } },
    { status: 500, message: 'QEMU guest agent is not running', kind: 'conflict', extra: { reason: 'not-running' } },
    { status: 500, message: 'No QEMU guest agent configured', kind: 'conflict', extra: { reason: 'not-running' } },
    { status: 403, message: 'Permission check failed (/vms/105, VM.PowerMgmt)', kind: 'permission-denied' },
    { status: 401, message: 'authentication failure', kind: 'permission-denied' },
    { status: 400, message: 'Parameter verification failed.', errors: { name: 'invalid format - value does not look like a valid DNS name\n' },
      kind: 'invalid-parameters', extra: { parameters: { name: 'invalid format - value does not look like a valid DNS name\n' } } },
    { status: 500, message: 'cluster not ready - no quorum?', kind: 'transient' },
    { status: 595, message: 'Connection refused', kind: 'transient' },
    { status: 596, message: 'Connection timed out', kind: 'transient' },
    { status: 502, message: 'Bad Gateway', kind: 'transient' },
    { status: 500, message: 'something odd happened', kind: 'transient' },
    { status: 501, message: "Method 'GET /nodes/pve1/nothing' not implemented", kind: 'unexpected' },
  ];
  for (const c of cases) {
    const error = classifyResponse({ status: c.status, message: c.message, errors: c.errors, request: 'GET /x' });
    assert.instance(error, ProxmoxError);
    assert.is(error.kind, c.kind, `${c.status} ${c.message} → ${error.kind}`);
    assert.is(error.status, c.status);
    assert.is(error.request, 'GET /x');
    for (const [key, value] of Object.entries(c.extra ?? {})) assert.equal((error as any)[key], value, `${c.message}: ${key}`);
  }
});

test('parameter errors name every parameter in the message', () => {
  const error = classifyResponse({ status: 400, message: 'Parameter verification failed.',
    errors: { name: 'invalid format', memory: 'value must have a minimum value of 16' } });
  assert.instance(error, InvalidParametersError);
  assert.match(error.message, /name: invalid format; memory: value must have a minimum value of 16/);
});

test('task exit statuses carry the meaning of their text', () => {
  const cases: Array<[string, string, boolean]> = [
    ["can't lock file '/var/lock/qemu-server/lock-105.conf' - got timeout", 'locked', true],
    ['VM is locked (backup)', 'locked', true],
    ['shrinking disks is not supported', 'unexpected', false],
    ['VM 105 already running', 'conflict', false],
    ['job errors', 'unexpected', false],
  ];
  for (const [status, kind, retryable] of cases) {
    const reason = classifyExitStatus(status);
    assert.is(reason.kind, kind, status);
    const failed = new TaskFailedError('UPID:x', status, ['line'], reason);
    assert.is(failed.kind, 'task-failed');
    assert.is(failed.retryable, retryable, status);
  }
  assert.instance(classifyExitStatus('VM is locked (clone)'), LockedError);
  assert.instance(classifyExitStatus('VM 1 already running'), ConflictError);
});

test('network failures are transient, refused logins are not', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8006'), { code: 'ECONNREFUSED' });
  assert.is(classifyNetworkError(refused, 'GET /nodes').kind, 'transient');
  assert.match(classifyNetworkError(refused, 'GET /nodes').message, /^GET \/nodes: connect ECONNREFUSED/);
  assert.is(classifyNetworkError(new Error('socket hang up')).kind, 'transient');
  assert.is(classifyNetworkError(new Error('All configured authentication methods failed')).kind, 'permission-denied');
  const untrusted = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  assert.is(classifyNetworkError(untrusted).kind, 'untrusted-peer');
  assert.not.ok(classifyNetworkError(untrusted).retryable);
  const already = new LockedError('VM is locked (clone)', 'clone');
  assert.is(classifyNetworkError(already), already);
});

test.run();
