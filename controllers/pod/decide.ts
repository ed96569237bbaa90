import type { PodStatus } from '../../src/db/schema.ts';
import { isTrue, type ConditionUpdate } from '../../src/runtime/conditions.ts';
import type { Decision } from '../../src/runtime/kit.ts';
import type { ConditionChange } from '../../src/runtime/status.ts';
import type { LoadedPod, PodObservation } from './observe.ts';
import type { PlaceOutcome } from './place.ts';
import { planPodStep, type PodFacts, type PodStep } from './plan.ts';
import { conditionTypes, reasons } from './reasons.ts';
import { podPhase, ranAtGeneration, settledAtGeneration } from './status.ts';

/** What an act could not do, told to the next decision. */
export type PodOutcome =
  | { kind: 'unplaced'; placement: Extract<PlaceOutcome, { ok: false }> }
  | { kind: 'clone-busy' }
  | { kind: 'no-address'; quota: boolean; message: string }
  /** A running VM was configured: the keys Proxmox holds for the next boot. */
  | { kind: 'configured'; pending: string[] }
  | { kind: 'agent-silent' }
  | { kind: 'no-addresses' }
  | { kind: 'names-followed' }
  | { kind: 'dns-pending' };

/** The writes of the pod controller: the plan's steps, and the bookkeeping around them. */
export type PodAction =
  | Exclude<PodStep, { kind: 'wait-task' | 'wait-lock' | 'settled' | 'check-hooks' | 'wait-for-hooks' | 'hook-failed'
    | 'task-failed' | 'stopped-out-of-band' }>
  /** The failed task's UPID goes; `retry` says what follows (another VMID, the engine's backoff, or a stop). */
  | { kind: 'clear-failed-task'; retry: 'same' | 'new-vmid' | 'terminal'; reason: string; message: string }
  /** The VM was found on another node (migrated): the row follows. */
  | { kind: 'record-node'; node: string }
  /** A new generation may carry a new hostname: the pod's own DNS records follow. */
  | { kind: 'follow-names' };

export interface PodTimings {
  taskPollMs: number;
  agentPollMs: number;
  capacityRetryMs: number;
  /** Queued clones are woken when a slot frees; this recheck is only a safety net. */
  cloneQueueRecheckMs: number;
  /** A blocking hook's fan-out or delivery is under way: its end may not be recorded yet when it wakes the pod. */
  hookPollMs: number;
  /** A blocking delivery waits for a retry (its end wakes the pod) or was given up on pre_destroy: a safety net. */
  hookRecheckMs: number;
}

export interface PodDecideSettings extends PodTimings {
  clonesPerNode: number;
  /** The DNS controller runs: a pod's records follow its hostname. */
  dns: boolean;
}

const taskReasons: Record<string, string> = {
  qmclone: reasons.cloning, qmstart: reasons.starting, qmshutdown: reasons.stopping, qmstop: reasons.stopping,
  qmreboot: reasons.rebooting, resize: reasons.resizing, qmdestroy: reasons.deleting,
  // Auto-heal's tasks, recorded in the row by the health controller.
  qmresume: reasons.healing, qmreset: reasons.healing,
};

const notReady = (reason: string, message: string): ConditionUpdate =>
  ({ type: conditionTypes.ready, status: 'False', reason, message });
const condition = (type: string, status: 'True' | 'False', reason: string, message: string): ConditionUpdate =>
  ({ type, status, reason, message });

/**
 * Pure: from the pod, what Proxmox shows and what the last act could not do, the pod controller's next write, its
 * conditions, phase and next look. `planPodStep` chooses the step; this says what a client sees of it.
 */
export function decidePod({ row: pod, template, tenantSuspended }: LoadedPod, seen: PodObservation,
  outcome: PodOutcome | undefined, settings: PodDecideSettings): Decision<PodAction, PodStatus> {
  const deleting = pod.deletion_requested_at !== null;
  if (seen.vm?.node && seen.vm.node !== pod.node) return { step: { kind: 'record-node', node: seen.vm.node } };
  const specObserved = settledAtGeneration(pod);
  const facts: PodFacts = {
    deleting, vmid: pod.vmid, node: pod.node, task: seen.task, hasAddress: seen.hasAddress, desiredPower: pod.power_state,
    rebootWanted: pod.reboot_requested_at !== null && (pod.rebooted_at === null || pod.rebooted_at < pod.reboot_requested_at),
    ipsKnown: pod.ip_addresses.length > 0, specObserved, ranAtGeneration: ranAtGeneration(pod), volumesRemaining: seen.volumesRemaining, hooks: seen.hooks,
  };
  const step = planPodStep(facts, seen.vm?.facts ?? { state: 'absent' }, { diskGiB: pod.disk_gb });

  // Conditions that follow from what was seen or done, whatever the step.
  const always: ConditionChange[] = [];
  if (seen.hooks?.state === 'clear' && isTrue(pod.conditions, conditionTypes.hookFailed)) {
    always.push(condition(conditionTypes.hookFailed, 'False', reasons.cleared,
      `no blocking ${seen.hooks.event} hook holds the pod any more`));
  }
  if (outcome?.kind === 'configured') {
    always.push(outcome.pending.length > 0
      ? condition(conditionTypes.needsReboot, 'True', reasons.pendingChanges, `applied at the next reboot: ${outcome.pending.join(', ')}`)
      : condition(conditionTypes.needsReboot, 'False', reasons.applied, 'no pending changes'));
  }
  const phase = (settled = false, terminal = false) => podPhase({ deleting, settled, terminal, placed: pod.vmid !== null,
    desiredPower: pod.power_state, current: pod.status, provisioned: settled || isTrue(pod.conditions, conditionTypes.provisioned) });
  const shown = (decision: Decision<PodAction, PodStatus>, settled = false): Decision<PodAction, PodStatus> =>
    ({ ...decision, conditions: [...always, ...(decision.conditions ?? [])], phase: decision.phase ?? phase(settled) });
  const waiting = (reason: string, message: string, requeueAfterMs: number) =>
    shown({ conditions: [notReady(reason, message)], requeueAfterMs });
  const doing = (action: PodAction, reason?: string, message?: string, more: ConditionUpdate[] = []) =>
    shown({ step: action, conditions: [...(reason ? [notReady(reason, message!)] : []), ...more] });
  const terminal = (reason: string, message: string, more: ConditionUpdate[] = []) =>
    shown({ terminal: { reason, message }, conditions: more, phase: phase(false, true) });

  switch (step.kind) {
    case 'wait-task':
      return waiting(deleting ? reasons.deleting : taskReasons[step.type] ?? reasons.provisioning, `${step.type} task running`,
        settings.taskPollMs);
    case 'wait-lock':
      return waiting(reasons.locked, `VM is locked (${step.lock})`, settings.agentPollMs);
    case 'task-failed':
      if (step.retry === 'new-vmid') return doing({ ...step, kind: 'clear-failed-task' });
      if (step.retry === 'same') return doing({ ...step, kind: 'clear-failed-task' }, step.reason, step.message);
      // The act clears the task, then stops the generation on this reason (a TerminalError): shown as `error`.
      return { ...doing({ ...step, kind: 'clear-failed-task' }, step.reason, step.message,
        [condition(step.reason, 'True', step.reason, step.message)]), phase: phase(false, true) };
    case 'place': {
      if (outcome?.kind !== 'unplaced') return doing(step, reasons.provisioning, 'choosing a node and a VMID');
      const { reason, message } = outcome.placement;
      if (reason === 'TemplateInvalid') return terminal(reason, message, [condition(reason, 'True', reason, message)]);
      return waiting(reason, message, settings.capacityRetryMs);
    }
    case 'clone':
      if (outcome?.kind === 'clone-busy') {
        return waiting(reasons.cloneQueued, `waiting for one of ${settings.clonesPerNode} clone slots on ${pod.node}`,
          settings.cloneQueueRecheckMs);
      }
      return doing(step, reasons.cloning, `cloning template ${template.code} into VM ${pod.vmid} on ${pod.node}`);
    case 'allocate-address':
      if (outcome?.kind === 'no-address') {
        return waiting(outcome.quota ? reasons.quotaExceeded : reasons.noAddress, outcome.message, settings.capacityRetryMs);
      }
      return doing(step);
    case 'resize':
      return doing(step, reasons.resizing, `growing ${step.disk} to ${pod.disk_gb} GB`);
    case 'start':
      // A suspended tenant's pods are not started (spec: suspension blocks creating and starting pods).
      if (tenantSuspended) return shown({ conditions: [notReady(reasons.tenantSuspended, 'the tenant is suspended: its pods are not started')] });
      return doing(step, reasons.starting, `starting VM ${pod.vmid}`);
    case 'stop':
      return doing(step, deleting ? reasons.deleting : reasons.stopping, `stopping VM ${pod.vmid}`);
    case 'reboot':
      return doing(step, reasons.rebooting, `rebooting VM ${pod.vmid}`,
        [condition(conditionTypes.needsReboot, 'False', reasons.rebooted, 'pending changes applied')]);
    case 'read-ips':
      if (outcome?.kind === 'agent-silent') return waiting(reasons.waitingForAgent, 'the guest agent has not answered yet', settings.agentPollMs);
      if (outcome?.kind === 'no-addresses') return waiting(reasons.waitingForAgent, 'the guest agent reports no address yet', settings.agentPollMs);
      return doing(step);
    // Stopped out of band: the spec was met (Ready as when settled); the pod's Healthy condition says what happened.
    case 'stopped-out-of-band':
    case 'settled': {
      // Auto-heal gave up on the pod: error until its spec changes or an admin asks for a heal.
      if (pod.heal_given_up_at) {
        return shown({ conditions: [notReady(reasons.healGivenUp, 'auto-heal gave up: the pod keeps failing its health checks '
          + 'after as many heals as allowed; change its spec or POST /api/cloud-pods/:id/actions/heal')], phase: 'error' });
      }
      if (step.kind === 'settled' && settings.dns && !specObserved && outcome?.kind !== 'names-followed') {
        return doing({ kind: 'follow-names' });
      }
      const running = pod.power_state === 'running';
      return shown({ conditions: [
        condition(conditionTypes.ready, 'True', running ? reasons.active : reasons.stopped,
          running ? `running on ${pod.node} as VM ${pod.vmid}` : 'stopped as asked'),
        condition(conditionTypes.provisioned, 'True', reasons.provisioned, `VM ${pod.vmid} on ${pod.node}`),
        ...(running ? [] : [condition(conditionTypes.needsReboot, 'False', reasons.stopped, 'a stopped VM starts with its new configuration')]),
      ] }, true);
    }
    case 'destroy':
      return doing(step, reasons.deleting, `destroying VM ${pod.vmid}`);
    case 'remove-volumes':
      return doing(step, reasons.deleting, 'the pod\'s volumes are being removed');
    case 'check-hooks':
      throw new Error(`the ${step.event} hooks were not observed before a step that needs them`);
    case 'wait-for-hooks':
      return waiting(reasons.waitingForHooks, `waiting for the ${step.event} delivery of blocking hook${
        step.hooks.length > 1 ? 's' : ''} ${step.hooks.join(', ')}`, step.soon ? settings.hookPollMs : settings.hookRecheckMs);
    case 'hook-failed': {
      const failure = `blocking ${step.event} hook ${step.hook} failed: ${step.error}`;
      // pre_create: the pod is refused, like a spec that cannot be met (deleting it still works).
      // pre_destroy: the VM is kept until the delivery is retried or the hook no longer blocks.
      if (step.event === 'pod.pre_create') {
        const message = `${failure}; the pod is not provisioned`;
        return terminal(reasons.hookFailed, message, [condition(conditionTypes.hookFailed, 'True', reasons.hookFailed, message)]);
      }
      const message = `${failure}; the VM is kept: retry the delivery (POST /api/admin/jobs/${step.jobId}/retry) or deactivate the hook`;
      return shown({ conditions: [notReady(reasons.hookFailed, message),
        condition(conditionTypes.hookFailed, 'True', reasons.hookFailed, message)], requeueAfterMs: settings.hookRecheckMs });
    }
    case 'finish-delete':
      if (outcome?.kind === 'dns-pending') return waiting(reasons.deleting, 'removing the pod\'s DNS records', settings.agentPollMs);
      return doing(step);
    default:
      // Bookkeeping and the writes that need no words of their own (task done, configure, another VMID).
      return doing(step);
  }
}
