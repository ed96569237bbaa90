import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freeSlot, locateDisk, roomFor, volidOf, volumeSerial } from '../controllers/volume/disks.ts';
import { planVolumeStep, type PodFacts, type StoredFacts, type VmFacts, type VolumeFacts } from '../controllers/volume/plan.ts';
import { volumePhase } from '../controllers/volume/status.ts';

const test = suite('volume controller decisions');

const volid = 'local-lvm:vm-1000-disk-1';
const base: VolumeFacts = { deleting: false, wantAttached: true, sizeGiB: 10, slot: 'scsi1', volid, task: null };
const ready: PodFacts = { state: 'ready' };
const vm = (facts: Partial<Extract<VmFacts, { state: 'present' }>> = {}): VmFacts => ({
  state: 'present', lock: undefined, attachedAt: 'scsi1', unusedAt: [], foundVolid: null, diskGiB: 10, slotTaken: false,
  freeSlot: 'scsi2', configTaskActive: false, ...facts,
});
const absent: VmFacts = { state: 'absent' };
const fresh = { volid: null, slot: null } satisfies Partial<VolumeFacts>;

test('planVolumeStep: applying the spec, one next step for every situation', () => {
  const cases: Array<[string, Partial<VolumeFacts>, PodFacts, VmFacts, StoredFacts, string]> = [
    ['a running task is waited on', { task: { state: 'running', type: 'qmconfig' } }, ready, absent, 'unknown', 'wait'],
    ['a finished task is cleared', { task: { state: 'ok', type: 'resize' } }, ready, vm(), 'unknown', 'task-done'],
    ['a pod still provisioning is waited for', fresh, { state: 'waiting', reason: 'the pod is provisioning' }, absent, 'unknown', 'wait'],
    ['an active pod whose VM is missing is waited for', fresh, ready, absent, 'unknown', 'wait'],
    ['a locked VM is waited on', fresh, ready, vm({ lock: 'backup', attachedAt: null }), 'unknown', 'wait'],
    ['a new volume picks a free slot first', fresh, ready, vm({ attachedAt: null, freeSlot: 'scsi1' }), 'unknown', 'pick-slot'],
    ['with its slot recorded it is allocated', { volid: null }, ready, vm({ attachedAt: null }), 'unknown', 'allocate'],
    ['a recorded slot taken by another disk: pick another', { volid: null }, ready,
      vm({ attachedAt: null, slotTaken: true, freeSlot: 'scsi2' }), 'unknown', 'pick-slot'],
    ['no slot left', fresh, ready, vm({ attachedAt: null, freeSlot: null }), 'unknown', 'no-slot'],
    ['after a crash the allocated disk is found by serial and adopted', { volid: null }, ready,
      vm({ foundVolid: volid, attachedAt: 'scsi1' }), 'unknown', 'adopt'],
    ['after a crash a config task may still be allocating: wait', { volid: null }, ready,
      vm({ attachedAt: null, configTaskActive: true }), 'unknown', 'wait'],
    ['attached at the recorded slot with its size: settled', {}, ready, vm(), 'unknown', 'settled'],
    ['attached elsewhere than recorded: record the slot', { slot: null }, ready, vm({ attachedAt: 'scsi3' }), 'unknown', 'record-slot'],
    ['smaller than asked: grown', { sizeGiB: 20 }, ready, vm({ diskGiB: 10 }), 'unknown', 'resize'],
    ['larger than asked (never shrunk): settled', { sizeGiB: 5 }, ready, vm({ diskGiB: 10 }), 'unknown', 'settled'],
    ['detach asked while attached', { wantAttached: false }, ready, vm(), 'unknown', 'detach'],
    ['detached and unused: settled', { wantAttached: false, slot: null }, ready, vm({ attachedAt: null, unusedAt: ['unused0'] }),
      'unknown', 'settled'],
    ['attach asked for an unused disk: attached at its slot', {}, ready, vm({ attachedAt: null, unusedAt: ['unused0'] }),
      'unknown', 'attach'],
    ['attach without a slot picks one', { slot: null }, ready, vm({ attachedAt: null, unusedAt: ['unused0'] }), 'unknown', 'pick-slot'],
    ['attach waits while a config task may still land', {}, ready,
      vm({ attachedAt: null, unusedAt: ['unused0'], configTaskActive: true }), 'unknown', 'wait'],
    ['a volume in neither config nor storage is missing', {}, ready, vm({ attachedAt: null }), 'absent', 'missing'],
    ['a volume only on its storage is attached again', {}, ready, vm({ attachedAt: null }), 'present', 'attach'],
  ];
  for (const [name, facts, pod, observed, stored, expected] of cases) {
    assert.is(planVolumeStep({ ...base, ...facts }, pod, observed, stored).kind, expected, name);
  }
});

test('planVolumeStep: deleting destroys only what the row names', () => {
  const deleting = { ...base, deleting: true };
  const cases: Array<[string, Partial<VolumeFacts>, VmFacts, StoredFacts, string]> = [
    ['attached and unused references go together', {}, vm({ unusedAt: ['unused0'] }), 'unknown', 'destroy'],
    ['an unused disk is destroyed', {}, vm({ attachedAt: null, unusedAt: ['unused1'] }), 'unknown', 'destroy'],
    ['a locked VM is waited on', {}, vm({ lock: 'backup' }), 'unknown', 'wait'],
    ['the VM is gone and the disk with it: the row goes', {}, absent, 'absent', 'remove-row'],
    ['the VM is gone but the disk stayed on the storage: it is deleted there', {}, absent, 'present', 'delete-stored'],
    ['unreferenced but still stored', {}, vm({ attachedAt: null }), 'present', 'delete-stored'],
    ['already destroyed (crash after unlink): the row goes', {}, vm({ attachedAt: null }), 'absent', 'remove-row'],
    ['never allocated: the row goes', { volid: null, slot: null }, vm({ attachedAt: null }), 'unknown', 'remove-row'],
    ['a disk found by serial is recorded before anything is destroyed', { volid: null },
      vm({ foundVolid: volid }), 'unknown', 'adopt'],
    ['an allocation that may still land is waited for', { volid: null }, vm({ attachedAt: null, configTaskActive: true }),
      'unknown', 'wait'],
  ];
  for (const [name, facts, observed, stored, expected] of cases) {
    assert.is(planVolumeStep({ ...deleting, ...facts }, ready, observed, stored).kind, expected, name);
  }
  assert.equal(planVolumeStep(deleting, ready, vm({ unusedAt: ['unused0'] }), 'unknown'),
    { kind: 'destroy', keys: ['scsi1', 'unused0'], volid });
});

test('failed tasks: a full storage is its own reason, anything else is retried', () => {
  const failed = (storageFull: boolean) => planVolumeStep({ ...base, task: { state: 'failed', type: 'qmconfig',
    message: 'boom', storageFull } }, ready, absent, 'unknown');
  assert.equal(failed(true), { kind: 'task-failed', reason: 'StorageFull', message: 'qmconfig: boom' });
  assert.equal(failed(false), { kind: 'task-failed', reason: 'TaskFailed', message: 'qmconfig: boom' });
});

test('locateDisk: by recorded volume id, else by serial; unused entries listed', () => {
  const serial = volumeSerial('0b6f2a1c-9d4e-4f00-8a11-222233334444');
  assert.is(serial, 'cp0b6f2a1c9d4e4f008a');
  assert.ok(serial.length <= 20, 'PVE takes at most 20 bytes');
  const config = {
    scsi0: 'local-lvm:vm-1000-disk-0,iothread=1,size=10G',
    scsi1: `local-lvm:vm-1000-disk-1,serial=${serial},size=20G`,
    scsi2: 'local-lvm:vm-1000-disk-2,serial=cpother,size=5G',
    unused0: 'local-lvm:vm-1000-disk-1',
    ide2: 'local-lvm:vm-1000-cloudinit,media=cdrom',
  };
  assert.equal(locateDisk(config, { volid: 'local-lvm:vm-1000-disk-1', serial }),
    { attachedAt: 'scsi1', unusedAt: ['unused0'], volid: 'local-lvm:vm-1000-disk-1', sizeGiB: 20 });
  assert.equal(locateDisk(config, { volid: null, serial }),
    { attachedAt: 'scsi1', unusedAt: [], volid: 'local-lvm:vm-1000-disk-1', sizeGiB: 20 });
  assert.equal(locateDisk(config, { volid: 'local-lvm:vm-1000-disk-9', serial: 'cpnone' }),
    { attachedAt: null, unusedAt: [], volid: 'local-lvm:vm-1000-disk-9', sizeGiB: undefined });
  assert.equal(locateDisk(config, { volid: 'local-lvm:vm-1000-disk-2', serial }).attachedAt, null,
    'a disk with another volume\'s serial is not this one, whatever its volume id');
  assert.is(volidOf('local-lvm:vm-1000-disk-1,size=4G'), 'local-lvm:vm-1000-disk-1');
  assert.is(volidOf('none,media=cdrom'), undefined);
});

test('freeSlot skips occupied and claimed slots; roomFor compares bytes', () => {
  assert.is(freeSlot({ scsi0: 'a:b', scsi1: 'a:c' }, new Set()), 'scsi2');
  assert.is(freeSlot({ scsi0: 'a:b', scsi1: 'a:c' }, new Set(['scsi2'])), 'scsi3');
  const full = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`scsi${i}`, 'a:b']));
  assert.is(freeSlot(full, new Set()), null);
  assert.equal(roomFor(10, 10 * 1024 ** 3), { ok: true, neededGiB: 10, availGiB: 10 });
  assert.equal(roomFor(10, 5.5 * 1024 ** 3), { ok: false, neededGiB: 10, availGiB: 5.5 });
});

test('phase', () => {
  const phase = (input: Partial<Parameters<typeof volumePhase>[0]>) => volumePhase({ deleting: false,
    exists: true, attachedNow: null, current: 'creating', ...input });
  assert.is(phase({ deleting: true }), 'deleting');
  assert.is(phase({ readyFalseReason: 'StorageFull' }), 'error');
  assert.is(phase({ readyFalseReason: 'NoFreeSlot' }), 'error');
  assert.is(phase({ readyFalseReason: 'Attaching' }), 'creating');
  assert.is(phase({ exists: false }), 'creating');
  assert.is(phase({ attachedNow: true }), 'attached');
  assert.is(phase({ attachedNow: false }), 'detached');
  assert.is(phase({ current: 'detached' }), 'detached');
});

test.run();
