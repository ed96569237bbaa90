import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { hookGate } from '../../src/hooks/gate.ts';
import type { PodRow } from '../../src/pods/store.ts';
import { ConflictError } from '../../src/proxmox/errors.ts';
import { isTrue, type ConditionUpdate } from '../../src/runtime/conditions.ts';
import type { ReconcileContext } from '../../src/runtime/controller.ts';
import { done, requeueAfter, type Result } from '../../src/runtime/result.ts';
import { QuotaExceededError } from '../../src/tenancy/errors.ts';
import { allocateAddress, allocationsOfPod, PoolExhaustedError } from '../../src/tenancy/ip-pools.ts';
import { podVolumesGone } from '../../src/volumes/pod-volumes.ts';
import type { Template } from '../../src/tenancy/templates.ts';
import { cloneIntoSlot, wakeQueuedClones } from './clone-slots.ts';
import type { PodContext, PodControllerOptions } from './context.ts';
import { observeTask, observeVm, type VmObservation } from './observe.ts';
import { placePod } from './place.ts';
import { planPodStep, type PodFacts, type PodStep } from './plan.ts';
import { terminalReasonOf, withConditions } from './status.ts';
import { dnsRecordsRemoved, finishDelete, removeVolumes } from './teardown.ts';
import { desiredConfigOf, followHostname, noteNeedsReboot, podAddressesFrom, proveOwnership, recordAddresses } from './vm.ts';
import { writePodStatus } from './write-status.ts';

export type { PodControllerOptions } from './context.ts';

/** Steps that need no waiting run back to back in one reconcile, up to this many. */
const maxStepsPerRun = 24;
const agentPollMs = 2_000;
/**
 * A reconcile waits for the task it started, or for the guest agent, up to this long before handing the pod back
 * to the queue: one run instead of a poll job every few hundred milliseconds. The UPID is recorded first, so a
 * crash meanwhile only means the next run waits on the same task.
 */
const waitBudgetMs = 30_000;
const capacityRetryMs = 30_000;
/** Queued clones are woken when a slot frees; this recheck is only a safety net. */
const cloneQueueRecheckMs = 5_000;
/** Another reconcile is counting clone slots this very moment: look again right away. */
const lockRetryMs = 100;
/** A blocking hook's fan-out or delivery is under way: its end may not be recorded yet when it wakes the pod. */
const hookPollMs = 1_000;
/** A blocking delivery waits for a retry (its end wakes the pod) or was given up on pre_destroy: a safety net. */
const hookRecheckMs = 30_000;

type Loaded = { pod: PodRow; template: Template; tenantSuspended: boolean };

async function load(db: Kysely<Database>, id: string): Promise<Loaded | undefined> {
  const pod = await db.selectFrom('cloud_pods').selectAll().where('id', '=', id).executeTakeFirst();
  if (!pod) return undefined;
  const template = await db.selectFrom('cloud_pod_templates').selectAll().where('id', '=', pod.template_id)
    .executeTakeFirstOrThrow();
  const tenant = await db.selectFrom('tenants').select('status').where('id', '=', pod.tenant_id).executeTakeFirstOrThrow();
  return { pod, template, tenantSuspended: tenant.status === 'suspended' };
}

/** The spec's generation was converged before, so steady state needs no configuration read. */
const specObserved = (pod: PodRow) => pod.observed_generation === pod.generation && isTrue(pod.conditions, 'Ready');

/** Converges one pod to its spec on Proxmox. Level-triggered: everything is re-read on every run. */
export function createPodReconciler(options: PodControllerOptions) {
  const ctx: PodContext = { ...options, log: options.logger.child({ controller: 'pod' }) };
  const { db, proxmox, cluster, log } = ctx;

  return async function reconcilePod(id: string, { signal }: ReconcileContext): Promise<Result> {
    let loaded = await load(db, id);
    if (!loaded) return done();
    const updates: ConditionUpdate[] = [];
    let settled = false;
    let readConfig = false;
    let result: Result | undefined;
    // Read once a step asks (before provisioning or teardown) and kept for the run: a clear gate stays clear.
    let hooks: PodFacts['hooks'] = null;

    try {
      for (let step = 0; step < maxStepsPerRun && !result; step++) {
        const { pod, template } = loaded;
        const observation = pod.vmid !== null && pod.node !== null && !pod.task_upid
          ? await observeVm(proxmox, cluster, {
            podId: pod.id, vmid: pod.vmid, node: pod.node,
            direct: readConfig || !specObserved(pod) || pod.deletion_requested_at !== null,
            desired: () => desiredConfigOf(ctx, pod, template),
          })
          : undefined;
        if (observation?.node && observation.node !== pod.node) await setRow(pod.id, { node: observation.node });
        const facts: PodFacts = {
          deleting: pod.deletion_requested_at !== null, vmid: pod.vmid, node: pod.node,
          task: pod.task_upid ? await observeTask(proxmox, pod.task_upid) : null,
          hasAddress: (await allocationsOfPod(db, pod.id)).some((a) => a.family === 4),
          desiredPower: pod.power_state,
          rebootWanted: pod.reboot_requested_at !== null && (pod.rebooted_at === null || pod.rebooted_at < pod.reboot_requested_at),
          ipsKnown: pod.ip_addresses.length > 0,
          specObserved: specObserved(pod) && !readConfig,
          terminalReason: terminalReasonOf(pod.conditions, pod.generation),
          volumesRemaining: pod.deletion_requested_at !== null && !(await podVolumesGone(db, pod.id)),
          hooks,
        };
        const vm = observation?.facts ?? { state: 'absent' as const };
        let next = planPodStep(facts, vm, { diskGiB: pod.disk_gb });
        if (next.kind === 'check-hooks') {
          hooks = { event: next.event, ...await hookGate(db, { id: pod.id, tenantId: pod.tenant_id }, next.event) };
          if (hooks.state === 'clear' && isTrue(pod.conditions, 'HookFailed')) {
            updates.push({ type: 'HookFailed', status: 'False', reason: 'Cleared',
              message: `no blocking ${next.event} hook holds the pod any more` });
          }
          next = planPodStep({ ...facts, hooks }, vm, { diskGiB: pod.disk_gb });
        }
        log.debug({ id, step: next.kind, ...(next.kind === 'wait' ? { reason: next.reason } : {}) }, 'pod step');
        result = await perform(next, loaded, observation);
        if (next.kind === 'read-config' || next.kind === 'configure') readConfig = true;
        if (next.kind === 'settled') settled = true;
        if (result) break;
        // Another step follows: it starts from what the database says now.
        const reloaded = await load(db, id);
        if (!reloaded) return done();
        loaded = reloaded;
      }
    } catch (error) {
      await writePodStatus(ctx, id, false, updates).catch((e) => log.warn({ err: e, id }, 'could not record pod status'));
      throw error;
    }
    await writePodStatus(ctx, id, settled, updates);
    return result ?? requeueAfter(0);

    /** Performs one step; undefined means "go on with the next step now". */
    async function perform(step: PodStep, { pod, template, tenantSuspended }: Loaded, observation: VmObservation | undefined)
      : Promise<Result | undefined> {
      const ready = (status: 'True' | 'False', reason: string, message: string) =>
        updates.push({ type: 'Ready', status, reason, message });
      switch (step.kind) {
        case 'wait':
          if (!pod.deletion_requested_at && terminalReasonOf(pod.conditions, pod.generation)) return done();
          ready('False', step.reason.startsWith('VM is locked') ? 'Locked'
            : pod.deletion_requested_at ? 'Deleting' : 'Provisioning', step.reason);
          return requeueAfter(step.reason.includes('task') ? options.taskPollMs : agentPollMs);
        case 'task-done':
          await setRow(pod.id, { task_upid: null });
          cluster.invalidate();
          if (pod.task_upid?.includes(':qmclone:')) await wakeQueuedClones(ctx, pod.node!);
          return undefined;
        case 'task-failed':
          await setRow(pod.id, { task_upid: null });
          cluster.invalidate();
          if (step.retry === 'new-vmid') {
            await setRow(pod.id, { vmid: null, node: null });
            return undefined;
          }
          ready('False', step.reason, step.message);
          if (step.retry === 'terminal') {
            updates.push({ type: step.reason, status: 'True', reason: step.reason, message: step.message });
            return done();
          }
          throw new Error(step.message);
        case 'place': {
          const placement = await placePod(db, proxmox, cluster, pod, template, options.vmids);
          if (placement.ok) {
            ready('False', 'Provisioning', `placed on ${placement.node}`);
            return undefined;
          }
          ready('False', placement.reason, placement.message);
          if (placement.reason !== 'TemplateInvalid') return requeueAfter(capacityRetryMs);
          updates.push({ type: 'TemplateInvalid', status: 'True', reason: 'TemplateInvalid', message: placement.message });
          return done();
        }
        case 'clone': {
          const outcome = await cloneIntoSlot(ctx, pod, template);
          if (outcome === 'contended') return requeueAfter(lockRetryMs);
          if (outcome === 'busy') {
            ready('False', 'CloneQueued', `waiting for one of ${options.clonesPerNode} clone slots on ${pod.node}`);
            return requeueAfter(cloneQueueRecheckMs);
          }
          if (outcome === 'taken') {
            await setRow(pod.id, { vmid: null, node: null });
            return undefined;
          }
          const { task_upid: upid } = await db.selectFrom('cloud_pods').select('task_upid').where('id', '=', pod.id)
            .executeTakeFirstOrThrow();
          return upid ? waitForTask(upid, signal) : undefined;
        }
        case 'new-vmid':
          log.warn({ id: pod.id, vmid: pod.vmid }, step.reason);
          await setRow(pod.id, { vmid: null, node: null });
          return undefined;
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
            ready('False', error instanceof QuotaExceededError ? 'QuotaExceeded' : 'NoAddress', error.message);
            return requeueAfter(capacityRetryMs);
          }
          return undefined;
        case 'read-config':
          return undefined;
        case 'configure': {
          const facts = observation!.facts;
          if (facts.state !== 'owned' || !facts.config) return undefined;
          try {
            await proxmox.updateConfigSync(pod.node!, pod.vmid!, facts.config.write, { digest: facts.config.digest });
          } catch (error) {
            if (error instanceof ConflictError && error.reason === 'modified') return undefined;
            throw error;
          }
          if (facts.status === 'running') await noteNeedsReboot(ctx, pod);
          return undefined;
        }
        case 'resize':
          return startTask(pod, proxmox.resize(pod.node!, pod.vmid!, step.disk, `${pod.disk_gb}G`), 'Resizing', signal);
        case 'start':
          // A suspended tenant's pods are not started (spec: suspension blocks creating and starting pods).
          if (tenantSuspended) {
            ready('False', 'TenantSuspended', 'the tenant is suspended: its pods are not started');
            return done();
          }
          return startTask(pod, proxmox.start(pod.node!, pod.vmid!), 'Starting', signal);
        case 'stop':
          await proveOwnership(ctx, pod);
          return startTask(pod, pod.deletion_requested_at ? proxmox.stop(pod.node!, pod.vmid!)
            : proxmox.shutdown(pod.node!, pod.vmid!, { timeout: 60, forceStop: true }), 'Stopping', signal);
        case 'reboot':
          await proveOwnership(ctx, pod);
          await setRow(pod.id, { rebooted_at: sql`now()` });
          updates.push({ type: 'NeedsReboot', status: 'False', reason: 'Rebooted', message: 'pending changes applied' });
          return startTask(pod, proxmox.shutdown(pod.node!, pod.vmid!, { timeout: 60, forceStop: true }), 'Rebooting', signal);
        case 'read-ips':
          return readIps(pod, observation, signal);
        case 'settled':
          // A new generation may carry a new hostname: its records follow before the spec counts as observed.
          if (!specObserved(pod)) await followHostname(ctx, pod.id);
          ready('True', pod.power_state === 'running' ? 'Active' : 'Stopped',
            pod.power_state === 'running' ? `running on ${pod.node} as VM ${pod.vmid}` : 'stopped as asked');
          updates.push({ type: 'Provisioned', status: 'True', reason: 'Provisioned', message: `VM ${pod.vmid} on ${pod.node}` });
          if (pod.power_state === 'stopped') {
            updates.push({ type: 'NeedsReboot', status: 'False', reason: 'Stopped', message: 'a stopped VM starts with its new configuration' });
          }
          return done();
        case 'destroy':
          await proveOwnership(ctx, pod);
          ready('False', 'Deleting', `destroying VM ${pod.vmid}`);
          return startTask(pod, proxmox.destroy(pod.node!, pod.vmid!, { purge: true, destroyUnreferencedDisks: true }),
            'Deleting', signal);
        case 'remove-volumes':
          await removeVolumes(ctx, pod.id);
          ready('False', 'Deleting', 'the pod\'s volumes are being removed');
          return requeueAfter(agentPollMs);
        case 'check-hooks':
          throw new Error('the blocking hooks\' gate was asked for twice');
        case 'wait-for-hooks':
          ready('False', 'WaitingForHooks', `waiting for the ${step.event} delivery of blocking hook${
            step.hooks.length > 1 ? 's' : ''} ${step.hooks.join(', ')}`);
          return requeueAfter(step.soon ? hookPollMs : hookRecheckMs);
        case 'hook-failed': {
          const failure = `blocking ${step.event} hook ${step.hook} failed: ${step.error}`;
          // pre_create: the pod is refused, like a spec that cannot be met (deleting it still works).
          // pre_destroy: the VM is kept until the delivery is retried or the hook no longer blocks.
          const message = step.event === 'pod.pre_create' ? `${failure}; the pod is not provisioned`
            : `${failure}; the VM is kept: retry the delivery (POST /api/admin/jobs/${step.jobId}/retry) or deactivate the hook`;
          ready('False', 'HookFailed', message);
          updates.push({ type: 'HookFailed', status: 'True', reason: 'HookFailed', message });
          return step.event === 'pod.pre_create' ? done() : requeueAfter(hookRecheckMs);
        }
        case 'finish-delete':
          if (!(await dnsRecordsRemoved(ctx, pod))) {
            ready('False', 'Deleting', 'removing the pod\'s DNS records');
            return requeueAfter(agentPollMs);
          }
          await finishDelete(ctx, pod);
          return done();
      }
    }

    /** The guest agent answers some seconds after boot: it is asked now and then within the budget. */
    async function readIps(pod: PodRow, observation: VmObservation | undefined, signal: AbortSignal)
      : Promise<Result | undefined> {
      let interfaces = await proxmox.guestNetworkInterfaces(pod.node!, pod.vmid!);
      for (const deadline = Date.now() + waitBudgetMs; !interfaces && Date.now() < deadline && !signal.aborted;) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, options.taskPollMs * 2)));
        interfaces = await proxmox.guestNetworkInterfaces(pod.node!, pod.vmid!);
      }
      if (!interfaces) {
        updates.push({ type: 'Ready', status: 'False', reason: 'WaitingForAgent', message: 'the guest agent has not answered yet' });
        return requeueAfter(agentPollMs);
      }
      const config = observation?.config ?? await proxmox.getConfig(pod.node!, pod.vmid!);
      const addresses = podAddressesFrom(interfaces, config.net0 === undefined ? undefined : String(config.net0));
      if (addresses.length === 0) return requeueAfter(agentPollMs);
      await recordAddresses(ctx, pod, addresses);
      return undefined;
    }
  };

  async function setRow(id: string, values: Record<string, unknown>): Promise<void> {
    await db.updateTable('cloud_pods').set({ ...values, updated_at: sql`now()` }).where('id', '=', id).execute();
  }

  /** Records a task's UPID before anything else happens, so a restart waits on the same task; then waits for it. */
  async function startTask(pod: PodRow, submitted: Promise<string>, reason: string, signal: AbortSignal)
    : Promise<Result | undefined> {
    const upid = await submitted;
    await setRow(pod.id, { task_upid: upid, conditions: JSON.stringify(withConditions(pod.conditions,
      [{ type: 'Ready', status: 'False', reason, message: `task ${upid.split(':')[5]} running` }], pod.generation)) });
    cluster.invalidate();
    return waitForTask(upid, signal);
  }

  /** Waits within the budget; whatever the task came to, the next step observes it (done, failed or running). */
  async function waitForTask(upid: string, signal: AbortSignal): Promise<Result | undefined> {
    try {
      await proxmox.waitForTask(upid, { pollIntervalMs: options.taskPollMs, timeoutMs: waitBudgetMs, signal });
    } catch {
      // Failed, still running after the budget, or aborted: observeTask tells which.
    }
    return signal.aborted ? requeueAfter(options.taskPollMs) : undefined;
  }

}
