import { sql } from 'kysely';
import { ConflictError } from '../../src/proxmox/errors.ts';
import type { ActOutcome, RunContext } from '../../src/runtime/kit.ts';
import { TerminalError } from '../../src/runtime/errors.ts';
import { requeueAfter, type Result } from '../../src/runtime/result.ts';
import { QuotaExceededError } from '../../src/tenancy/errors.ts';
import { allocateAddress, PoolExhaustedError } from '../../src/tenancy/ip-pools.ts';
import { cloneIntoSlot, queueForClone, wakeQueuedClones } from './clone-slots.ts';
import type { PodContext } from './context.ts';
import type { PodAction, PodOutcome } from './decide.ts';
import type { LoadedPod, PodObservation } from './observe.ts';
import { placePod } from './place.ts';
import { dnsRecordsRemoved, finishDelete, removeVolumes } from './teardown.ts';
import { followHostname, podAddressesFrom, proveOwnership, recordAddresses } from './vm.ts';

export interface PodActSettings {
  /** Another reconcile is counting clone slots this very moment: look again right away. */
  lockRetryMs: number;
  agentPollMs: number;
  waitBudgetMs: number;
}

type Acted = Result | ActOutcome<PodOutcome> | void;
/** The act could not make its write (or, like following the names, changed nothing the next look sees). */
const told = (outcome: PodOutcome): ActOutcome<PodOutcome> => ({ outcome });

/**
 * Performs the pod controller's one write. A started task's UPID is recorded before anything else, so a crash only
 * means the next run waits on the same task (the next look waits for it within the run's budget); destructive
 * steps prove, by a fresh read, that the VM is this pod's first.
 */
export async function actOnPod(ctx: PodContext, settings: PodActSettings, action: PodAction, { row: pod, template }: LoadedPod,
  seen: PodObservation, run: RunContext): Promise<Acted> {
  const { db, proxmox, cluster } = ctx;
  const setRow = async (values: Record<string, unknown>) => {
    await db.updateTable('cloud_pods').set({ ...values, updated_at: sql`now()` }).where('id', '=', pod.id).execute();
  };
  /** Records the UPID right after submitting; the next look waits for the task. */
  const started = async (submitted: Promise<string>) => {
    await setRow({ task_upid: await submitted });
    cluster.invalidate();
  };

  switch (action.kind) {
    case 'task-done':
      await setRow({ task_upid: null });
      cluster.invalidate();
      if (pod.task_upid?.includes(':qmclone:')) await wakeQueuedClones(ctx, pod.node!);
      return;
    case 'clear-failed-task':
      await setRow({ task_upid: null, ...(action.retry === 'new-vmid' ? { vmid: null, node: null } : {}) });
      cluster.invalidate();
      if (action.retry === 'terminal') throw new TerminalError(action.reason, action.message);
      if (action.retry === 'same') throw new Error(action.message);
      return;
    case 'record-node':
      await setRow({ node: action.node });
      return;
    case 'place': {
      const placement = await placePod(db, proxmox, cluster, pod, template, ctx.vmids);
      return placement.ok ? undefined : told({ kind: 'unplaced', placement });
    }
    case 'clone': {
      const outcome = await cloneIntoSlot(ctx, pod, template);
      if (outcome === 'contended') return requeueAfter(settings.lockRetryMs);
      if (outcome === 'busy') {
        await queueForClone(ctx, pod.id);
        return told({ kind: 'clone-busy' });
      }
      if (outcome === 'taken') await setRow({ vmid: null, node: null });
      return;
    }
    case 'new-vmid':
      run.log.warn({ id: pod.id, vmid: pod.vmid }, `VMID ${pod.vmid} belongs to a VM that is not this pod's: choosing another`);
      await setRow({ vmid: null, node: null });
      return;
    case 'allocate-address':
      try {
        await db.transaction().execute(async (trx) => {
          const { limits } = await ctx.quotas.getTenantQuota(pod.tenant_id, trx);
          return allocateAddress(trx, { podId: pod.id, tenantId: pod.tenant_id, family: 4, node: pod.node,
            ipv4Limit: limits.ipv4 });
        });
      } catch (error) {
        // No room in the tenant's IPv4 quota (lowered since the order) or in any pool: looked at again later.
        if (!(error instanceof QuotaExceededError || error instanceof PoolExhaustedError)) throw error;
        return told({ kind: 'no-address', quota: error instanceof QuotaExceededError, message: error.message });
      }
      return;
    case 'read-config':
      return requeueAfter(0);
    case 'configure': {
      const vm = seen.vm!.facts;
      if (vm.state !== 'owned' || !vm.config) return;
      try {
        await proxmox.updateConfigSync(pod.node!, pod.vmid!, vm.config.write, { digest: vm.config.digest });
      } catch (error) {
        // Changed by someone else since it was read: read it again.
        if (error instanceof ConflictError && error.reason === 'modified') return;
        throw error;
      }
      if (vm.status !== 'running') return;
      // Changes Proxmox holds for the next boot of a running VM.
      const pending = await proxmox.pending(pod.node!, pod.vmid!);
      return { outcome: { kind: 'configured', pending: pending.filter((p) => p.pending !== undefined || p.delete).map((p) => p.key) },
        changed: true };
    }
    case 'resize':
      return started(proxmox.resize(pod.node!, pod.vmid!, action.disk, `${pod.disk_gb}G`));
    case 'start':
      return started(proxmox.start(pod.node!, pod.vmid!));
    case 'stop':
      await proveOwnership(ctx, pod);
      return started(pod.deletion_requested_at ? proxmox.stop(pod.node!, pod.vmid!)
        : proxmox.shutdown(pod.node!, pod.vmid!, { timeout: 60, forceStop: true }));
    case 'reboot':
      await proveOwnership(ctx, pod);
      await setRow({ rebooted_at: sql`now()` });
      return started(proxmox.shutdown(pod.node!, pod.vmid!, { timeout: 60, forceStop: true }));
    case 'read-ips':
      return readIps(ctx, settings, pod, seen, run);
    case 'follow-names':
      await followHostname(ctx, pod.id);
      return told({ kind: 'names-followed' });
    case 'destroy':
      await proveOwnership(ctx, pod);
      return started(proxmox.destroy(pod.node!, pod.vmid!, { purge: true, destroyUnreferencedDisks: true }));
    case 'remove-volumes':
      await removeVolumes(ctx, pod.id);
      return requeueAfter(settings.agentPollMs);
    case 'finish-delete':
      if (!(await dnsRecordsRemoved(ctx, pod))) return told({ kind: 'dns-pending' });
      await finishDelete(ctx, pod);
      return;
  }
}

/** The guest agent answers some seconds after boot: it is asked now and then within the run's budget. */
async function readIps(ctx: PodContext, settings: PodActSettings, pod: LoadedPod['row'], seen: PodObservation,
  run: RunContext): Promise<Acted> {
  const ask = () => ctx.proxmox.guestNetworkInterfaces(pod.node!, pod.vmid!);
  let interfaces = await ask();
  const deadline = run.startedAt + settings.waitBudgetMs;
  while (!interfaces && Date.now() < deadline && !run.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, ctx.taskPollMs * 2)));
    interfaces = await ask();
  }
  if (!interfaces) return told({ kind: 'agent-silent' });
  const config = seen.vm?.config ?? await ctx.proxmox.getConfig(pod.node!, pod.vmid!);
  const addresses = podAddressesFrom(interfaces, config.net0 === undefined ? undefined : String(config.net0));
  if (addresses.length === 0) return told({ kind: 'no-addresses' });
  await recordAddresses(ctx, pod, addresses);
}
