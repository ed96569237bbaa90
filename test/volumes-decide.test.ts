import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideVolume } from '../controllers/volume/decide.ts';
import type { LoadedVolume, RoomFacts, VolumeObservation } from '../controllers/volume/observe.ts';
import type { VmFacts } from '../controllers/volume/plan.ts';
import type { VolumeRow } from '../src/db/schema.ts';

const test = suite('volume controller: what a client sees of each decision');
const timings = { taskPollMs: 100, waitPollMs: 2_000, capacityRetryMs: 30_000 };
const GiB = 1024 ** 3;
const volid = 'local-lvm:vm-1000-disk-1';

const volume = (fields: Partial<VolumeRow> = {}): LoadedVolume => ({
  row: { id: 'v1', tenant_id: 't1', pod_id: 'p1', name: 'data', size_gb: 10, storage_pool: 'local-lvm', status: 'creating',
    proxmox_volume_id: null, slot: null, attached: true, task_upid: null, generation: 1, observed_generation: 0,
    conditions: [], deletion_requested_at: null, ...fields } as VolumeRow,
  pod: { id: 'p1', tenant_id: 't1', status: 'active', vmid: 1000, node: 'pve1', deletion_requested_at: null },
});
const vm = (facts: Partial<Extract<VmFacts, { state: 'present' }>> = {}): VmFacts => ({
  state: 'present', lock: undefined, attachedAt: null, unusedAt: [], foundVolid: null, diskGiB: undefined, slotTaken: false,
  freeSlot: 'scsi1', configTaskActive: false, ...facts,
});
const room = (state: RoomFacts['state'], availGiB = 100, neededGiB = 10): RoomFacts =>
  ({ storage: 'local-lvm', node: 'pve1', neededGiB, state, availBytes: availGiB * GiB });
const seen = (facts: VmFacts, extra: Partial<VolumeObservation> = {}): VolumeObservation =>
  ({ task: null, pod: { state: 'ready' }, vm: { facts, bootVolid: 'local-lvm:vm-1000-disk-0' }, stored: 'unknown', room: null, ...extra });

test('decisions, one row per case: the step, the Ready reason, the phase, a terminal reason and the next look', () => {
  const attached = { proxmox_volume_id: volid, slot: 'scsi1' };
  const cases: Array<[name: string, loaded: LoadedVolume, seen: VolumeObservation, step: string | undefined, ready?: string,
    phase?: string, terminal?: string, requeue?: number | null]> = [
    ['a running task: InProgress, looked at again at the task poll', volume(),
      seen(vm(), { task: { state: 'running', type: 'qmconfig' } }), undefined, 'InProgress', 'creating', undefined, 100],
    ['a pod still provisioning: WaitingForPod', volume(),
      seen({ state: 'absent' }, { pod: { state: 'waiting', reason: 'the pod is provisioning' } }), undefined, 'WaitingForPod',
      'creating', undefined, 2_000],
    ['a locked VM: Locked', volume(), seen(vm({ lock: 'backup' })), undefined, 'Locked', 'creating', undefined, 2_000],
    ['a new volume records its slot first', volume(), seen(vm(), { room: room('known') }), 'pick-slot'],
    ['then allocates, saying Creating', volume({ slot: 'scsi1' }), seen(vm(), { room: room('known') }), 'allocate', 'Creating',
      'creating'],
    ['a full storage: StorageFull, error, looked at again later', volume({ slot: 'scsi1' }),
      seen(vm(), { room: room('known', 4) }), undefined, 'StorageFull', 'error', undefined, 30_000],
    ['a storage that is gone: terminal StorageUnavailable', volume({ slot: 'scsi1' }),
      seen(vm(), { room: room('missing') }), undefined, 'StorageUnavailable', 'error', 'StorageUnavailable'],
    ['a storage not for disks: terminal StorageUnavailable', volume({ slot: 'scsi1' }),
      seen(vm(), { room: room('not-for-disks') }), undefined, 'StorageUnavailable', 'error', 'StorageUnavailable'],
    ['no free slot: terminal NoFreeSlot', volume(), seen(vm({ freeSlot: null })), undefined, 'NoFreeSlot', 'error', 'NoFreeSlot'],
    ['a disk found by its serial is adopted', volume({ slot: 'scsi1' }), seen(vm({ foundVolid: volid, attachedAt: 'scsi1' })), 'adopt'],
    ['attached at its size: Attached, converged', volume({ ...attached, status: 'creating' }),
      seen(vm({ attachedAt: 'scsi1', diskGiB: 10 })), undefined, 'Attached', 'attached', undefined, null],
    ['smaller than asked: grown, saying Resizing', volume({ ...attached, size_gb: 20 }),
      seen(vm({ attachedAt: 'scsi1', diskGiB: 10 }), { room: room('known', 100, 10) }), 'resize', 'Resizing', 'attached'],
    ['detach asked: detached', volume({ ...attached, attached: false }), seen(vm({ attachedAt: 'scsi1', diskGiB: 10 })), 'detach'],
    ['detached with the slot still recorded: the slot is cleared first', volume({ ...attached, attached: false }),
      seen(vm({ unusedAt: ['unused0'] })), 'clear-slot'],
    ['detached: Detached', volume({ proxmox_volume_id: volid, attached: false }), seen(vm({ unusedAt: ['unused0'] })), undefined,
      'Detached', 'detached', undefined, null],
    ['gone from VM and storage: terminal VolumeMissing', volume({ proxmox_volume_id: volid, slot: 'scsi1' }),
      seen(vm(), { stored: 'absent' }), undefined, 'VolumeMissing', 'error', 'VolumeMissing'],
    ['a failed task: cleared, handed to the engine\'s backoff', volume({ slot: 'scsi1', task_upid: 'UPID:x' }),
      seen(vm(), { task: { state: 'failed', type: 'qmconfig', message: 'boom', storageFull: false } }), 'clear-failed-task',
      'TaskFailed', 'creating'],
    ['a task failed on a full storage: cleared, looked at again later', volume({ slot: 'scsi1', task_upid: 'UPID:x' }),
      seen(vm(), { task: { state: 'failed', type: 'qmconfig', message: 'no space', storageFull: true } }), 'clear-failed-task',
      'StorageFull', 'error'],
    ['deleting: the disk is destroyed, saying Deleting', volume({ ...attached, deletion_requested_at: new Date() }),
      seen(vm({ attachedAt: 'scsi1', diskGiB: 10 })), 'destroy', 'Deleting', 'deleting'],
    ['deleting, nothing left: the row goes', volume({ deletion_requested_at: new Date() }), seen({ state: 'absent' }), 'remove-row'],
  ];
  for (const [name, loaded, observation, step, ready, phase, terminal, requeue] of cases) {
    const decision = decideVolume(loaded, observation, timings);
    assert.is(decision.step?.kind, step, `${name}: step`);
    const readyOf = decision.conditions?.find((c) => 'type' in c && c.type === 'Ready') as { reason: string } | undefined;
    assert.is(decision.terminal?.reason ?? readyOf?.reason, ready, `${name}: Ready reason`);
    assert.is(decision.phase, phase, `${name}: phase`);
    assert.is(decision.terminal?.reason, terminal, `${name}: terminal`);
    if (requeue !== undefined) assert.is(decision.requeueAfterMs ?? null, requeue, `${name}: next look`);
  }
});

test.run();
