import { isDeepStrictEqual } from 'node:util';
import { sql, type Kysely } from 'kysely';
import type { Database, PodStatus, VolumeRow } from '../../src/db/schema.ts';
import { recordAudit } from '../../src/observability/audit.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { LockedError, NotFoundError, ProxmoxError } from '../../src/proxmox/errors.ts';
import type { ConditionUpdate } from '../../src/runtime/conditions.ts';
import type { ReconcileContext } from '../../src/runtime/controller.ts';
import { done, requeueAfter, type Result } from '../../src/runtime/result.ts';
import { deleteVolumeRow, findVolume, setVolumeFields } from '../../src/volumes/store.ts';
import { withConditions } from '../pod/status.ts';
import { roomFor, volumeSerial } from './disks.ts';
import { observeStored, observeTask, observeVm, type VmObservation } from './observe.ts';
import { planVolumeStep, type PodFacts, type StoredFacts, type VolumeStep } from './plan.ts';
import { terminalReasonOf, volumePhase } from './status.ts';

export interface VolumeControllerOptions {
  db: Kysely<Database>;
  proxmox: ProxmoxClient;
  logger: Logger;
  /** How soon to look again at a running task. */
  taskPollMs: number;
}

/** Steps that need no waiting run back to back in one reconcile, up to this many. */
const maxStepsPerRun = 12;
/** How soon to look again at a full storage: room may be made. */
const capacityRetryMs = 30_000;

interface PodOfVolume {
  id: string;
  tenant_id: string;
  status: PodStatus;
  vmid: number | null;
  node: string | null;
  deletion_requested_at: Date | null;
}

type Loaded = { volume: VolumeRow; pod: PodOfVolume };

interface Observed {
  pod: PodFacts;
  vm: VmObservation;
  stored: StoredFacts;
}

async function load(db: Kysely<Database>, id: string): Promise<Loaded | undefined> {
  const volume = await findVolume(db, id);
  if (!volume) return undefined;
  const pod = await db.selectFrom('cloud_pods').select(['id', 'tenant_id', 'status', 'vmid', 'node', 'deletion_requested_at'])
    .where('id', '=', volume.pod_id).executeTakeFirstOrThrow();
  return { volume, pod };
}

const isUniqueViolation = (error: unknown) => (error as { code?: string } | undefined)?.code === '23505';

/** Converges one volume to its spec on the pod's VM. Level-triggered: everything is re-read on every run. */
export function createVolumeReconciler(options: VolumeControllerOptions) {
  const { db, proxmox, logger } = options;
  const log = logger.child({ controller: 'volume' });
  const waitPollMs = Math.min(2_000, options.taskPollMs * 20);

  return async function reconcileVolume(id: string, _context: ReconcileContext): Promise<Result> {
    let loaded = await load(db, id);
    if (!loaded) return done();
    const updates: ConditionUpdate[] = [];
    let settled = false;
    let attachedNow: boolean | null = null;
    let result: Result | undefined;

    try {
      for (let step = 0; step < maxStepsPerRun && !result; step++) {
        const { volume } = loaded;
        const task = volume.task_upid ? await observeTask(proxmox, volume.task_upid) : null;
        const observed = task?.state === 'running' ? idle(loaded) : await observe(loaded);
        const vm = observed.vm.facts;
        if (vm.state === 'present' && (volume.proxmox_volume_id || vm.foundVolid)) attachedNow = vm.attachedAt !== null;
        const next = planVolumeStep({
          deleting: volume.deletion_requested_at !== null, wantAttached: volume.attached, sizeGiB: volume.size_gb,
          slot: volume.slot, volid: volume.proxmox_volume_id, task,
          terminalReason: terminalReasonOf(volume.conditions, volume.generation),
        }, observed.pod, vm, observed.stored);
        result = await perform(next, loaded, observed);
        if (next.kind === 'settled') settled = true;
        if (next.kind === 'remove-row') return done();
        loaded = (await load(db, id)) ?? loaded;
      }
    } catch (error) {
      if (error instanceof ProxmoxError && error.retryable) {
        updates.push({ type: 'Ready', status: 'False', reason: error instanceof LockedError ? 'Locked' : 'ProxmoxUnavailable',
          message: error.message });
      }
      await writeStatus(id, false, attachedNow, updates).catch((e) => log.warn({ err: e, id }, 'could not record volume status'));
      throw error;
    }
    await writeStatus(id, settled, attachedNow, updates);
    return result ?? requeueAfter(0);

    /** Performs one step; undefined means "go on with the next step now". */
    async function perform(step: VolumeStep, { volume, pod }: Loaded, observed: Observed): Promise<Result | undefined> {
      const ready = (status: 'True' | 'False', reason: string, message: string) =>
        updates.push({ type: 'Ready', status, reason, message });
      const node = pod.node!;
      const vmid = pod.vmid!;
      switch (step.kind) {
        case 'wait': {
          if (step.why === 'terminal') return done();
          const reason = { task: 'InProgress', pod: 'WaitingForPod', lock: 'Locked', vm: 'WaitingForVm' }[step.why];
          ready('False', reason, step.reason);
          return requeueAfter(step.why === 'task' ? options.taskPollMs : waitPollMs);
        }
        case 'task-done':
          await setVolumeFields(db, volume.id, { task_upid: null });
          return undefined;
        case 'task-failed':
          await setVolumeFields(db, volume.id, { task_upid: null });
          ready('False', step.reason, step.message);
          if (step.reason === 'StorageFull') return requeueAfter(capacityRetryMs);
          throw new Error(step.message);
        case 'adopt':
          await setVolumeFields(db, volume.id, { proxmox_volume_id: step.volid, ...(step.slot ? { slot: step.slot } : {}) });
          return undefined;
        case 'pick-slot':
          try {
            await setVolumeFields(db, volume.id, { slot: step.slot });
          } catch (error) {
            // Another volume of the pod claimed the slot first: look again, it is no longer free for this one.
            if (!isUniqueViolation(error)) throw error;
          }
          return undefined;
        case 'record-slot':
          await setVolumeFields(db, volume.id, { slot: step.slot });
          return undefined;
        case 'no-slot':
          ready('False', 'NoFreeSlot', `VM ${vmid} has no free SCSI slot (scsi1 to scsi30) for this volume`);
          return done();
        case 'allocate': {
          const short = await checkRoom(updates, node, volume.storage_pool!, volume.size_gb);
          if (short) return short;
          const value = `${volume.storage_pool}:${volume.size_gb},serial=${volumeSerial(volume.id)}`;
          ready('False', 'Creating', `allocating ${volume.size_gb} GiB on ${volume.storage_pool} at ${step.slot}`);
          return submitted(volume, await proxmox.updateConfig(node, vmid, { set: { [step.slot]: value }, delete: [] }));
        }
        case 'attach':
          ready('False', 'Attaching', `attaching ${step.volid} at ${step.slot}`);
          return submitted(volume, await proxmox.updateConfig(node, vmid,
            { set: { [step.slot]: `${step.volid},serial=${volumeSerial(volume.id)}` }, delete: [] }));
        case 'resize': {
          const short = await checkRoom(updates, node, volume.proxmox_volume_id!.split(':')[0]!,
            volume.size_gb - step.currentGiB);
          if (short) return short;
          ready('False', 'Resizing', `growing ${step.slot} from ${step.currentGiB} to ${volume.size_gb} GiB`);
          // Absolute size: a retried resize is a no-op, never a second growth.
          return submitted(volume, await proxmox.resize(node, vmid, step.slot, `${volume.size_gb}G`,
            { storage: volume.proxmox_volume_id!.split(':')[0]! }));
        }
        case 'detach':
          // Without force PVE keeps the volume as an unused disk of the VM.
          await proxmox.unlinkDisks(node, vmid, [step.slot]);
          await setVolumeFields(db, volume.id, { slot: null });
          return undefined;
        case 'missing':
          ready('False', 'VolumeMissing', step.message);
          return done();
        case 'settled':
          if (!step.attached && volume.slot) await setVolumeFields(db, volume.id, { slot: null });
          ready('True', step.attached ? 'Attached' : 'Detached', step.attached
            ? `${volume.proxmox_volume_id} attached at ${volume.slot} of VM ${vmid}`
            : `${volume.proxmox_volume_id} kept as an unused disk of VM ${vmid}`);
          return done();
        case 'destroy':
          await proveOwnDisk(volume, pod, step.volid, observed.vm.bootVolid);
          ready('False', 'Deleting', `destroying ${step.volid}`);
          await proxmox.unlinkDisks(node, vmid, step.keys, { force: true });
          return undefined;
        case 'delete-stored': {
          await proveOwnDisk(volume, pod, step.volid, observed.vm.bootVolid);
          const storage = step.volid.split(':')[0]!;
          return submitted(volume, await proxmox.deleteVolume(node, storage, step.volid));
        }
        case 'remove-row':
          await db.transaction().execute(async (trx) => {
            await recordAudit(trx, { actor: { type: 'controller', id: 'volume' }, category: 'volume', action: 'volume.deleted',
              tenantId: volume.tenant_id, podId: volume.pod_id, details: { volume_id: volume.id, name: volume.name,
                proxmox_volume_id: volume.proxmox_volume_id } });
            await deleteVolumeRow(trx, volume.id);
          });
          return done();
      }
    }
  };

  /** While a task runs nothing else is looked at: the plan only waits. */
  function idle({ pod }: Loaded): Observed {
    return { pod: podFacts(pod), vm: { facts: { state: 'absent' }, bootVolid: undefined }, stored: 'unknown' };
  }

  async function observe({ volume, pod }: Loaded): Promise<Observed> {
    const deleting = volume.deletion_requested_at !== null;
    const facts = podFacts(pod);
    if (pod.vmid === null || pod.node === null || (!deleting && facts.state === 'waiting')) {
      return { pod: facts, vm: { facts: { state: 'absent' }, bootVolid: undefined }, stored: 'unknown' };
    }
    const others = await db.selectFrom('cloud_pod_volumes').select('slot').where('pod_id', '=', pod.id)
      .where('id', '!=', volume.id).where('slot', 'is not', null).execute();
    const vm = await observeVm(proxmox, {
      podId: pod.id, node: pod.node, vmid: pod.vmid, volid: volume.proxmox_volume_id, serial: volumeSerial(volume.id),
      slot: volume.slot, claimed: new Set(others.map((o) => o.slot!)),
      // Before anything is allocated or attached: a config task still landing would make it twice.
      checkTasks: (found) => !found.volid || (!deleting && volume.attached && !found.attachedAt),
    });
    const unreferenced = vm.facts.state === 'absent' || (vm.facts.attachedAt === null && vm.facts.unusedAt.length === 0);
    const stored = volume.proxmox_volume_id && unreferenced
      ? await storedAsOwn(volume, pod.node, pod.vmid) : 'unknown';
    return { pod: facts, vm, stored };
  }

  /** On its storage and named by no other volume row (a volume id reissued to another volume is not this one). */
  async function storedAsOwn(volume: VolumeRow, node: string, vmid: number): Promise<StoredFacts> {
    if (await namedByAnother(volume)) return 'absent';
    return observeStored(proxmox, node, vmid, volume.proxmox_volume_id!);
  }

  async function namedByAnother(volume: VolumeRow): Promise<string | undefined> {
    const other = await db.selectFrom('cloud_pod_volumes').select('id').where('proxmox_volume_id', '=', volume.proxmox_volume_id)
      .where('id', '!=', volume.id).executeTakeFirst();
    return other?.id;
  }

  function podFacts(pod: PodOfVolume): PodFacts {
    const up = pod.status === 'active' || pod.status === 'stopped';
    return up && pod.vmid !== null && pod.node !== null ? { state: 'ready' }
      : { state: 'waiting', reason: `the pod is ${pod.status}: the volume is applied once it is active` };
  }

  /** Records a task's UPID right after submitting, so a restart waits on the same task instead of submitting again. */
  async function submitted(volume: VolumeRow, upid: string | null): Promise<Result | undefined> {
    if (upid === null) return undefined;
    await setVolumeFields(db, volume.id, { task_upid: upid });
    return requeueAfter(options.taskPollMs);
  }

  /** A storage without room for `neededGiB` more: an error condition with the numbers, looked at again later. */
  async function checkRoom(updates: ConditionUpdate[], node: string, storage: string, neededGiB: number): Promise<Result | undefined> {
    let status;
    try {
      status = await proxmox.storageStatus(node, storage);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      updates.push({ type: 'Ready', status: 'False', reason: 'StorageUnavailable', message: `storage ${storage} does not exist on ${node}` });
      return done();
    }
    if (!status.content.split(',').includes('images')) {
      updates.push({ type: 'Ready', status: 'False', reason: 'StorageUnavailable', message: `storage ${storage} does not hold VM disks` });
      return done();
    }
    const room = roomFor(neededGiB, Number(status.avail ?? 0));
    if (room.ok) return undefined;
    updates.push({ type: 'Ready', status: 'False', reason: 'StorageFull',
      message: `storage ${storage} on ${node} is full: ${room.neededGiB} GiB needed, ${room.availGiB} GiB available` });
    return requeueAfter(capacityRetryMs);
  }

  /**
   * Right before destroying: the disk must be the one the row names, not the VM's boot disk, named by no other
   * volume, and listed on its storage as a disk of the pod's VMID. Anything else refuses, loudly.
   */
  async function proveOwnDisk(volume: VolumeRow, pod: PodOfVolume, volid: string, bootVolid: string | undefined): Promise<void> {
    const refuse = (why: string) => new Error(`refusing to destroy ${volid} for volume ${volume.id}: ${why}`);
    if (volume.proxmox_volume_id !== volid) throw refuse('it is not the volume id recorded for this volume');
    if (volid === bootVolid) throw refuse('it is the VM\'s boot disk');
    const other = await namedByAnother(volume);
    if (other) throw refuse(`volume ${other} names it too`);
    if (await observeStored(proxmox, pod.node!, pod.vmid!, volid) !== 'present') {
      throw refuse(`its storage does not list it as a disk of VM ${pod.vmid}`);
    }
  }

  /** Writes phase, conditions and observed generation only when they changed; records transitions in the audit. */
  async function writeStatus(id: string, settled: boolean, attachedNow: boolean | null, updates: ConditionUpdate[]): Promise<void> {
    const current = await findVolume(db, id);
    if (!current) return;
    const conditions = withConditions(current.conditions, updates, current.generation);
    const terminal = terminalReasonOf(conditions, current.generation) !== null;
    const phase = volumePhase({ deleting: current.deletion_requested_at !== null, conditions, generation: current.generation,
      exists: current.proxmox_volume_id !== null, attachedNow, current: current.status });
    const observedGeneration = settled || terminal ? current.generation : current.observed_generation;
    if (phase === current.status && observedGeneration === current.observed_generation
      && isDeepStrictEqual(conditions, current.conditions)) return;
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('cloud_pod_volumes').set({ status: phase, conditions: JSON.stringify(conditions),
        observed_generation: observedGeneration, updated_at: sql`now()` }).where('id', '=', id).execute();
      if (phase === current.status) return;
      const reason = conditions.find((c) => c.type === 'Ready');
      await recordAudit(trx, { actor: { type: 'controller', id: 'volume' }, category: 'volume', action: `volume.${phase}`,
        tenantId: current.tenant_id, podId: current.pod_id, details: { volume_id: id, from: current.status, to: phase,
          proxmox_volume_id: current.proxmox_volume_id, slot: current.slot, reason: reason?.reason ?? null,
          message: reason?.message ?? null } });
    });
  }
}
