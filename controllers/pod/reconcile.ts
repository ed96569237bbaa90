import { createHmac } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { sql, type Kysely } from 'kysely';
import type { Database, PodStatus } from '../../src/db/schema.ts';
import type { JobEngine } from '../../src/jobs/engine.ts';
import { recordAudit } from '../../src/observability/audit.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { publishLifecycleEvent } from '../../src/pods/lifecycle.ts';
import type { PodRow } from '../../src/pods/store.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { ConflictError, NotFoundError } from '../../src/proxmox/errors.ts';
import { isTrue, type ConditionUpdate } from '../../src/runtime/conditions.ts';
import { enqueueReconcile, type ReconcileContext } from '../../src/runtime/controller.ts';
import { done, requeueAfter, type Result } from '../../src/runtime/result.ts';
import { deletePodDnsRecords, podDnsRecordsGone, syncPodDnsRecords } from '../../src/dns/pod-records.ts';
import { markPodVolumesDeleting, podVolumesGone } from '../../src/volumes/pod-volumes.ts';
import { renderCloudInit } from '../../src/tenancy/cloud-init.ts';
import { allocateAddress, allocationsOfPod, PoolExhaustedError, releaseAddresses } from '../../src/tenancy/ip-pools.ts';
import { isAppStack, stackOptionSchemas } from '../../src/tenancy/stacks.ts';
import type { Template } from '../../src/tenancy/templates.ts';
import type { ClusterView } from './cluster-view.ts';
import { desiredVmConfig, type PodAddress } from './desired-config.ts';
import { ownedBy, ownerMarker } from './identity.ts';
import { observeTask, observeVm, type VmObservation } from './observe.ts';
import { placePod } from './place.ts';
import { planPodStep, type PodStep } from './plan.ts';
import { podPhase, terminalReasonOf, withConditions } from './status.ts';

export interface PodControllerOptions {
  db: Kysely<Database>;
  engine: JobEngine;
  proxmox: ProxmoxClient;
  cluster: ClusterView;
  logger: Logger;
  vmids: { min: number; max: number };
  clonesPerNode: number;
  /** How soon to look again at a running task. */
  taskPollMs: number;
  /** Whether the DNS controller runs: then pods with a hostname get records, and deletion waits for them to go. */
  dns: boolean;
}

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
const cloneQueueRecheckMs = 5_000;
const lockRetryMs = 100;

type Loaded = { pod: PodRow; template: Template; tenantSuspended: boolean };

async function load(db: Kysely<Database>, id: string): Promise<Loaded | undefined> {
  const pod = await db.selectFrom('cloud_pods').selectAll().where('id', '=', id).executeTakeFirst();
  if (!pod) return undefined;
  const template = await db.selectFrom('cloud_pod_templates').selectAll().where('id', '=', pod.template_id)
    .executeTakeFirstOrThrow();
  const tenant = await db.selectFrom('tenants').select('status').where('id', '=', pod.tenant_id).executeTakeFirstOrThrow();
  return { pod, template, tenantSuspended: tenant.status === 'suspended' };
}

/** Per-pod secrets derive from the pod's seed, so user-data rendered again is the same bytes. */
const derivedSecret = (seed: string, purpose: string) =>
  createHmac('sha256', seed).update(purpose).digest('base64url').slice(0, 24);

/** Converges one pod to its spec on Proxmox. Level-triggered: everything is re-read on every run. */
export function createPodReconciler(options: PodControllerOptions) {
  const { db, engine, proxmox, cluster, logger } = options;
  const log = logger.child({ controller: 'pod' });

  return async function reconcilePod(id: string, { signal }: ReconcileContext): Promise<Result> {
    let loaded = await load(db, id);
    if (!loaded) return done();
    const updates: ConditionUpdate[] = [];
    let settled = false;
    let readConfig = false;
    let result: Result | undefined;

    try {
      for (let step = 0; step < maxStepsPerRun && !result; step++) {
        const { pod, template } = loaded;
        const observation = pod.vmid !== null && pod.node !== null && !pod.task_upid
          ? await observeVm(proxmox, cluster, {
            podId: pod.id, vmid: pod.vmid, node: pod.node, direct: readConfig || !specObserved(pod) || pod.deletion_requested_at !== null,
            desired: () => desiredConfigOf(pod, template),
          })
          : undefined;
        if (observation?.node && observation.node !== pod.node) await setRow(pod.id, { node: observation.node });
        const task = pod.task_upid ? await observeTask(proxmox, pod.task_upid) : null;
        const next = planPodStep({
          deleting: pod.deletion_requested_at !== null, vmid: pod.vmid, node: pod.node, task,
          hasAddress: (await allocationsOfPod(db, pod.id)).some((a) => a.family === 4),
          desiredPower: pod.power_state,
          rebootWanted: pod.reboot_requested_at !== null && (pod.rebooted_at === null || pod.rebooted_at < pod.reboot_requested_at),
          ipsKnown: pod.ip_addresses.length > 0,
          specObserved: specObserved(pod) && !readConfig,
          terminalReason: terminalReasonOf(pod.conditions, pod.generation),
          volumesRemaining: pod.deletion_requested_at !== null && !(await volumesGone(pod.id)),
        }, observation?.facts ?? { state: 'absent' }, { diskGiB: pod.disk_gb });
        log.debug({ id, step: next.kind, ...(next.kind === 'wait' ? { reason: next.reason } : {}) }, 'pod step');
        result = await perform(next, loaded, observation);
        if (next.kind === 'read-config') readConfig = true;
        if (next.kind === 'settled') settled = true;
        if (next.kind === 'finish-delete' && !(await load(db, id))) return done();
        loaded = (await load(db, id)) ?? loaded;
      }
    } catch (error) {
      await writeStatus(loaded, false, updates).catch((e) => log.warn({ err: e, id }, 'could not record pod status'));
      throw error;
    }
    await writeStatus(loaded, settled, updates);
    return result ?? requeueAfter(0);

    /** Performs one step; undefined means "go on with the next step now". */
    async function perform(step: PodStep, { pod, template }: Loaded, observation: VmObservation | undefined)
      : Promise<Result | undefined> {
      const ready = (status: 'True' | 'False', reason: string, message: string) =>
        updates.push({ type: 'Ready', status, reason, message });
      switch (step.kind) {
        case 'wait':
          if (terminalReasonOf(pod.conditions, pod.generation)) return done();
          ready('False', step.reason.startsWith('VM is locked') ? 'Locked'
            : pod.deletion_requested_at ? 'Deleting' : 'Provisioning', step.reason);
          return requeueAfter(step.reason.includes('task') ? options.taskPollMs : agentPollMs);
        case 'task-done':
          await setRow(pod.id, { task_upid: null });
          cluster.invalidate();
          if (pod.task_upid?.includes(':qmclone:')) await wakeNextQueuedClone(pod.node!);
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
          if (!placement.ok) {
            ready('False', placement.reason, placement.message);
            if (placement.reason === 'TemplateInvalid') {
              updates.push({ type: 'TemplateInvalid', status: 'True', reason: 'TemplateInvalid', message: placement.message });
              return done();
            }
            return requeueAfter(capacityRetryMs);
          }
          updates.push({ type: 'Ready', status: 'False', reason: 'Provisioning', message: `placed on ${placement.node}` });
          return undefined;
        }
        case 'clone': {
          const cloned = await clone(pod, template, signal);
          if (cloned !== 'queued') return cloned;
          // Behind the node's running clones: a finishing clone wakes the oldest queued pod, so the recheck is only
          // a safety net and can be slow.
          ready('False', 'CloneQueued', `waiting for one of ${options.clonesPerNode} clone slots on ${pod.node}`);
          return requeueAfter(cloneQueueRecheckMs);
        }
        case 'new-vmid':
          log.warn({ id: pod.id, vmid: pod.vmid }, step.reason);
          await setRow(pod.id, { vmid: null, node: null });
          return undefined;
        case 'allocate-address':
          try {
            await db.transaction().execute((trx) =>
              allocateAddress(trx, { podId: pod.id, tenantId: pod.tenant_id, family: 4, node: pod.node }));
          } catch (error) {
            if (!(error instanceof PoolExhaustedError)) throw error;
            ready('False', 'NoAddress', error.message);
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
          readConfig = true;
          if (facts.status === 'running') await noteNeedsReboot(pod);
          return undefined;
        }
        case 'resize':
          return startTask(pod, proxmox.resize(pod.node!, pod.vmid!, step.disk, `${pod.disk_gb}G`), 'Resizing', signal);
        case 'start':
          // A suspended tenant's pods are not started (spec: suspension blocks creating and starting pods).
          if (loaded?.tenantSuspended) {
            ready('False', 'TenantSuspended', 'the tenant is suspended: its pods are not started');
            return done();
          }
          return startTask(pod, proxmox.start(pod.node!, pod.vmid!), 'Starting', signal);
        case 'stop':
          await proveOwnership(pod);
          return startTask(pod, pod.deletion_requested_at ? proxmox.stop(pod.node!, pod.vmid!)
            : proxmox.shutdown(pod.node!, pod.vmid!, { timeout: 60, forceStop: true }), 'Stopping', signal);
        case 'reboot':
          await proveOwnership(pod);
          await setRow(pod.id, { rebooted_at: sql`now()` });
          updates.push({ type: 'NeedsReboot', status: 'False', reason: 'Rebooted', message: 'pending changes applied' });
          return startTask(pod, proxmox.shutdown(pod.node!, pod.vmid!, { timeout: 60, forceStop: true }), 'Rebooting', signal);
        case 'read-ips':
          return readIps(pod, observation, signal);
        case 'settled':
          ready('True', pod.power_state === 'running' ? 'Active' : 'Stopped',
            pod.power_state === 'running' ? `running on ${pod.node} as VM ${pod.vmid}` : 'stopped as asked');
          updates.push({ type: 'Provisioned', status: 'True', reason: 'Provisioned', message: `VM ${pod.vmid} on ${pod.node}` });
          if (pod.power_state === 'stopped') {
            updates.push({ type: 'NeedsReboot', status: 'False', reason: 'Stopped', message: 'a stopped VM starts with its new configuration' });
          }
          return done();
        case 'destroy':
          await proveOwnership(pod);
          ready('False', 'Deleting', `destroying VM ${pod.vmid}`);
          return startTask(pod, proxmox.destroy(pod.node!, pod.vmid!, { purge: true, destroyUnreferencedDisks: true }), 'Deleting',
            signal);
        case 'finish-delete':
          if (!(await dnsRecordsRemoved(pod))) {
            ready('False', 'Deleting', 'removing the pod\'s DNS records');
            return requeueAfter(agentPollMs);
          }
          await finishDelete(pod);
          return done();
      }
    }
  };

  /** Volumes of a pod being deleted are marked (again, harmlessly: a Kubernetes deletion comes this way too). */
  async function volumesGone(podId: string): Promise<boolean> {
    if (await podVolumesGone(db, podId)) return true;
    await db.transaction().execute((trx) => markPodVolumesDeleting(trx, engine, podId));
    return false;
  }

  function specObserved(pod: PodRow): boolean {
    return pod.observed_generation === pod.generation && isTrue(pod.conditions, 'Ready');
  }

  async function setRow(id: string, values: Record<string, unknown>): Promise<void> {
    await db.updateTable('cloud_pods').set({ ...values, updated_at: sql`now()` }).where('id', '=', id).execute();
  }

  /** Records a task's UPID before anything else happens, so a restart waits on the same task; then waits for it. */
  async function startTask(pod: PodRow, submitted: Promise<string>, reason: string, signal: AbortSignal)
    : Promise<Result | undefined> {
    const upid = await submitted;
    await setRow(pod.id, { task_upid: upid });
    cluster.invalidate();
    await db.updateTable('cloud_pods').set({ conditions: JSON.stringify(withConditions(pod.conditions,
      [{ type: 'Ready', status: 'False', reason, message: `task ${upid.split(':')[5]} running` }], pod.generation)) })
      .where('id', '=', pod.id).execute();
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

  /**
   * Clones the template into the pod's VMID, at most `clonesPerNode` at once per target node across every process
   * (an advisory lock, only ever tried, serialises the count), recording the UPID in the same transaction.
   */
  async function clone(pod: PodRow, template: Template, signal: AbortSignal): Promise<Result | 'queued' | undefined> {
    const snapshot = await cluster.snapshot();
    const source = snapshot.vms.get(template.proxmox_template_vmid);
    if (!source?.node) throw new NotFoundError(`template VM ${template.proxmox_template_vmid} is not in the cluster`);
    const outcome = await db.transaction().execute(async (trx) => {
      // Never wait for the lock while holding a pooled connection: another process is counting; look again soon.
      const locked = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext(${`cloudpods-clone:${pod.node}`})) as ok`
        .execute(trx);
      if (!locked.rows[0]?.ok) return 'contended' as const;
      const running = await trx.selectFrom('cloud_pods').select(sql<number>`count(*)::int`.as('n'))
        .where('node', '=', pod.node).where('task_upid', 'like', '%:qmclone:%').executeTakeFirstOrThrow();
      if (running.n >= options.clonesPerNode) return 'busy' as const;
      try {
        const upid = await proxmox.clone(source.node!, template.proxmox_template_vmid, {
          newid: pod.vmid!, name: pod.name, full: true, storage: template.storage_pool,
          description: ownerMarker(pod.id), ...(pod.node !== source.node ? { target: pod.node! } : {}),
        });
        await trx.updateTable('cloud_pods').set({ task_upid: upid, updated_at: sql`now()` }).where('id', '=', pod.id).execute();
        return 'started' as const;
      } catch (error) {
        if (error instanceof ConflictError && error.reason === 'already-exists') return 'taken' as const;
        throw error;
      }
    });
    cluster.invalidate();
    // Another reconcile is counting this very moment: look again right away rather than queueing.
    if (outcome === 'contended') return requeueAfter(lockRetryMs);
    if (outcome === 'busy') return 'queued';
    if (outcome === 'taken') {
      await setRow(pod.id, { vmid: null, node: null });
      return undefined;
    }
    const { task_upid: upid } = await db.selectFrom('cloud_pods').select('task_upid').where('id', '=', pod.id)
      .executeTakeFirstOrThrow();
    return upid ? waitForTask(upid, signal) : undefined;
  }

  /**
   * A clone slot of the node came free: the longest-queued pods there try now rather than at their recheck. As
   * many as the node has slots are woken, since clones finishing together would otherwise all wake the same pod;
   * those that find no slot stay queued.
   */
  async function wakeNextQueuedClone(node: string): Promise<void> {
    const next = await db.selectFrom('cloud_pods').select('id').where('node', '=', node).where('task_upid', 'is', null)
      .where('deletion_requested_at', 'is', null)
      .where(sql<boolean>`conditions @> ${JSON.stringify([{ type: 'Ready', reason: 'CloneQueued' }])}::jsonb`)
      .orderBy('created_at').limit(options.clonesPerNode).execute();
    for (const { id } of next) await enqueueReconcile(engine, db, 'pod', id);
  }

  async function desiredConfigOf(pod: PodRow, template: Template) {
    const addresses: PodAddress[] = (await allocationsOfPod(db, pod.id)).map((a) => ({
      address: a.address, family: a.family, prefix: Number(a.pool.cidr.split('/')[1]), gateway: a.pool.gateway,
      bridge: a.pool.bridge, vlan: a.pool.vlan, nameservers: a.pool.nameservers,
    }));
    let userDataVolid: string | null = null;
    if (template.app_stack && isAppStack(template.app_stack) && pod.node) {
      const options = stackOptionSchemas[template.app_stack].parse(pod.app_options);
      const userData = renderCloudInit(template.app_stack, options as never, {
        hostname: pod.hostname ?? pod.name, databasePassword: derivedSecret(pod.secret_seed ?? pod.id, 'database'),
      });
      userDataVolid = await proxmox.uploadSnippet(pod.node, `cloudpods-${pod.id}.yaml`, userData);
    }
    return desiredVmConfig({ pod, templateBridge: template.network_bridge, addresses, userDataVolid });
  }

  /** Right before a stop or destroy: a fresh read of the VM must carry this pod's marks, or nothing happens. */
  async function proveOwnership(pod: PodRow): Promise<void> {
    const config = await proxmox.getConfig(pod.node!, pod.vmid!);
    if (!ownedBy(pod.id, { tags: String(config.tags ?? ''), description: String(config.description ?? '') })) {
      throw new Error(`VM ${pod.vmid} on ${pod.node} does not carry pod ${pod.id}'s marks: refusing to stop or destroy it`);
    }
  }

  async function noteNeedsReboot(pod: PodRow): Promise<void> {
    const pending = await proxmox.pending(pod.node!, pod.vmid!);
    const waiting = pending.filter((p) => p.pending !== undefined || p.delete).map((p) => p.key);
    await db.updateTable('cloud_pods').set({ conditions: JSON.stringify(withConditions(pod.conditions, [waiting.length > 0
      ? { type: 'NeedsReboot', status: 'True', reason: 'PendingChanges', message: `applied at the next reboot: ${waiting.join(', ')}` }
      : { type: 'NeedsReboot', status: 'False', reason: 'Applied', message: 'no pending changes' }], pod.generation)) })
      .where('id', '=', pod.id).execute();
  }

  async function readIps(pod: PodRow, observation: VmObservation | undefined, signal: AbortSignal)
    : Promise<Result | undefined> {
    let interfaces = await proxmox.guestNetworkInterfaces(pod.node!, pod.vmid!);
    // The agent answers some seconds after boot: ask again now and then within the budget.
    for (const deadline = Date.now() + waitBudgetMs; !interfaces && Date.now() < deadline && !signal.aborted;) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, options.taskPollMs * 2)));
      interfaces = await proxmox.guestNetworkInterfaces(pod.node!, pod.vmid!);
    }
    if (!interfaces) {
      await db.updateTable('cloud_pods').set({ conditions: JSON.stringify(withConditions(pod.conditions,
        [{ type: 'Ready', status: 'False', reason: 'WaitingForAgent', message: 'the guest agent has not answered yet' }],
        pod.generation)) }).where('id', '=', pod.id).execute();
      return requeueAfter(agentPollMs);
    }
    const config = observation?.config ?? await proxmox.getConfig(pod.node!, pod.vmid!);
    const mac = /=([0-9A-Fa-f:]{17})/.exec(String(config.net0 ?? ''))?.[1]?.toUpperCase();
    const addresses = interfaces
      .filter((i) => i.name !== 'lo' && (!mac || i['hardware-address']?.toUpperCase() === mac))
      .flatMap((i) => i['ip-addresses'] ?? [])
      .map((a) => a['ip-address'])
      .filter((a) => !a.startsWith('fe80:') && !a.startsWith('127.') && a !== '::1');
    if (addresses.length === 0) return requeueAfter(agentPollMs);
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('cloud_pods').set({ ip_addresses: JSON.stringify(addresses), updated_at: sql`now()` })
        .where('id', '=', pod.id).execute();
      // The pod's name follows its addresses in the same transaction (spec 8: records once the IPs are known).
      if (options.dns) {
        const sync = await syncPodDnsRecords(trx, engine, { ...pod, ip_addresses: addresses });
        if (sync.conflicts.length > 0) log.warn({ id: pod.id, names: sync.conflicts }, 'DNS names held by another tenant');
      }
    });
    return undefined;
  }

  /**
   * DNS records go before the row (spec 8: "on pod.deleted → delete record"). With the DNS controller running they
   * are marked for deletion and awaited; without it nothing can reach PowerDNS, so the rows are dropped.
   */
  async function dnsRecordsRemoved(pod: PodRow): Promise<boolean> {
    if (await podDnsRecordsGone(db, pod.id)) return true;
    if (!options.dns) {
      log.warn({ id: pod.id }, 'PowerDNS is not configured: dropping the pod\'s DNS rows without touching PowerDNS');
      await db.deleteFrom('cloud_pod_dns_records').where('pod_id', '=', pod.id).execute();
      return true;
    }
    await db.transaction().execute((trx) => deletePodDnsRecords(trx, engine, pod.id));
    return false;
  }

  async function finishDelete(pod: PodRow): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const released = await releaseAddresses(trx, pod.id);
      await publishLifecycleEvent(trx, engine, { event: 'pod.post_destroy', podId: pod.id, tenantId: pod.tenant_id,
        data: { name: pod.name, vmid: pod.vmid, node: pod.node } });
      await recordAudit(trx, { actor: { type: 'controller', id: 'pod' }, category: 'lifecycle', action: 'pod.deleted',
        tenantId: pod.tenant_id, podId: pod.id, details: { name: pod.name, vmid: pod.vmid, node: pod.node, released } });
      await trx.deleteFrom('cloud_pods').where('id', '=', pod.id).execute();
    });
  }

  /** Writes phase, conditions and observed generation only when they changed; records transitions in the audit. */
  async function writeStatus({ pod }: Loaded, settled: boolean, updates: ConditionUpdate[]): Promise<void> {
    const current = await db.selectFrom('cloud_pods').selectAll().where('id', '=', pod.id).executeTakeFirst();
    if (!current) return;
    const conditions = withConditions(current.conditions, updates, current.generation);
    const terminal = terminalReasonOf(conditions, current.generation) !== null;
    const phase: PodStatus = podPhase({
      deleting: current.deletion_requested_at !== null, settled, terminal, placed: current.vmid !== null,
      desiredPower: current.power_state, current: current.status, provisioned: isTrue(conditions, 'Provisioned'),
    });
    const observedGeneration = settled || terminal ? current.generation : current.observed_generation;
    if (phase === current.status && observedGeneration === current.observed_generation
      && isDeepStrictEqual(conditions, current.conditions)) return;
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('cloud_pods').set({ status: phase, conditions: JSON.stringify(conditions),
        observed_generation: observedGeneration, updated_at: sql`now()` }).where('id', '=', pod.id).execute();
      if (phase === current.status) return;
      await recordAudit(trx, { actor: { type: 'controller', id: 'pod' }, category: 'lifecycle', action: `pod.${phase}`,
        tenantId: pod.tenant_id, podId: pod.id, details: { from: current.status, to: phase, vmid: current.vmid, node: current.node } });
      const firstActive = phase === 'active' && !isTrue(current.conditions, 'Provisioned');
      if (firstActive) {
        // Volumes ordered while the pod was provisioning apply now.
        const volumes = await trx.selectFrom('cloud_pod_volumes').select('id').where('pod_id', '=', pod.id).execute();
        for (const volume of volumes) await enqueueReconcile(engine, trx, 'volume', volume.id);
        await publishLifecycleEvent(trx, engine, { event: 'pod.post_create', podId: pod.id, tenantId: pod.tenant_id,
          data: { name: pod.name, vmid: current.vmid, node: current.node, ip_addresses: current.ip_addresses } });
      }
    });
  }
}
