import { sql, type Kysely } from 'kysely';
import type { Counter } from 'prom-client';
import type { Database } from '../../src/db/schema.ts';
import type { JobEngine } from '../../src/jobs/engine.ts';
import { recordAudit } from '../../src/observability/audit.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { podKind } from '../../src/pods/kind.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import type { SystemSettingsService } from '../../src/settings/service.ts';
import { planHeals, type HealAction, type HealCandidate } from './heal-plan.ts';

export interface HealDeps {
  db: Kysely<Database>;
  engine: JobEngine;
  proxmox: ProxmoxClient;
  settings: SystemSettingsService;
  log: Logger;
  /** cloudpods_auto_heal_total{action,result} */
  healed?: Counter<'action' | 'result'>;
}

/** A pod whose check this cycle failed, as the cycle recorded it. */
export interface FailingPod {
  id: string;
  tenant_id: string;
  generation: number;
  reason: string;
  message: string;
  failures: number;
  heal_given_up_at: Date | null;
}

const actor = { type: 'controller', id: 'health' } as const;

/**
 * Auto-heal after a cycle: with `cloudpods.auto_heal.enabled`, the pods whose consecutive failures reached the
 * threshold get one action each within the bounds (read from the settings each cycle), or are given up. Nothing
 * is repaired when it is disabled: the Healthy condition keeps saying why the pod is unhealthy.
 */
export async function autoHeal(deps: HealDeps, failing: readonly FailingPod[]): Promise<void> {
  const { db, settings } = deps;
  if (!await settings.getBoolean('cloudpods.auto_heal.enabled')) return;
  const threshold = await settings.getNumber('cloudpods.auto_heal.failure_threshold');
  const due = failing.filter((pod) => pod.failures >= threshold && pod.heal_given_up_at === null);
  if (due.length === 0) return;
  const [history, inFlight] = await Promise.all([
    // The hour's heals of each pod, newest first; an admin's heal request starts a new count.
    db.selectFrom('cloud_pod_audit').select(['pod_id', 'action']).where('category', '=', 'health')
      .where('pod_id', 'in', due.map((p) => p.id)).where('created_at', '>', sql<Date>`now() - interval '1 hour'`)
      .where((eb) => eb.or([eb('action', 'like', 'auto_heal.%'), eb('action', '=', 'heal.requested')]))
      .orderBy('created_at', 'desc').orderBy('id', 'desc').execute(),
    db.selectFrom('cloud_pods').select(sql<number>`count(*)::int`.as('n')).where('heal_started_at', 'is not', null)
      .where('task_upid', 'is not', null).executeTakeFirstOrThrow(),
  ]);
  const candidates: HealCandidate[] = due.map((pod) => {
    const heals: HealAction[] = [];
    for (const row of history.filter((h) => h.pod_id === pod.id)) {
      if (row.action === 'heal.requested') break;
      heals.push(row.action.slice('auto_heal.'.length) as HealAction);
    }
    return { id: pod.id, reason: pod.reason, failures: pod.failures, healsLastHour: heals };
  });
  const bounds = { threshold, maxPerPodPerHour: await settings.getNumber('cloudpods.auto_heal.max_per_pod_per_hour'),
    fleetRoom: await settings.getNumber('cloudpods.auto_heal.max_concurrent') - inFlight.n };
  const byId = new Map(due.map((pod) => [pod.id, pod]));
  for (const decision of planHeals(candidates, bounds)) {
    const pod = byId.get(decision.id)!;
    if (decision.kind === 'heal') await heal(deps, pod, decision.action);
    else if (decision.kind === 'give-up') await giveUp(deps, pod, decision.heals);
  }
}

/**
 * One heal, through the pod's row: under its lock, only while the pod is as checked (same generation, no task, not
 * being deleted), the action's task is started and its UPID recorded in `task_upid`, so the pod controller waits
 * for that task and never acts on the VM meanwhile; the count starts again.
 */
async function heal(deps: HealDeps, pod: FailingPod, action: HealAction): Promise<void> {
  const { db, proxmox, engine } = deps;
  const failures = { reason: pod.reason, message: pod.message, consecutive: pod.failures };
  const outcome = await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('cloud_pods').select(['node', 'vmid']).where('id', '=', pod.id)
      .where('generation', '=', pod.generation).where('task_upid', 'is', null).where('deletion_requested_at', 'is', null)
      .forUpdate().executeTakeFirst();
    if (!row || row.node === null || row.vmid === null) return 'skipped' as const;
    const { node, vmid } = row;
    let upid: string;
    try {
      upid = action === 'start' ? await proxmox.start(node, vmid)
        : action === 'resume' ? await proxmox.resume(node, vmid)
          : action === 'reboot' ? await proxmox.reboot(node, vmid, { timeout: 60 })
            : await proxmox.reset(node, vmid);
    } catch (error) {
      await recordAudit(trx, { actor, category: 'health', action: `auto_heal.${action}`, tenantId: pod.tenant_id,
        podId: pod.id, details: { result: 'failed', error: (error as Error).message, vmid, node, failures } });
      return 'failed' as const;
    }
    await trx.updateTable('cloud_pods').set({ task_upid: upid, heal_started_at: sql`now()`, health_failures: 0 })
      .where('id', '=', pod.id).execute();
    await recordAudit(trx, { actor, category: 'health', action: `auto_heal.${action}`, tenantId: pod.tenant_id,
      podId: pod.id, details: { result: 'started', upid, vmid, node, failures } });
    // The pod controller waits for the task and clears it.
    await podKind.enqueue(engine, trx, pod.id);
    return 'started' as const;
  });
  if (outcome === 'skipped') return;
  deps.healed?.inc({ action, result: outcome });
  deps.log.info({ event: true, pod: pod.id, action, result: outcome, failures }, `auto-heal: ${action} of pod ${pod.id}`);
}

/** Past the hourly bound: the pod is given up (the pod controller shows `error`, HealGivenUp) and a warning says so. */
async function giveUp(deps: HealDeps, pod: FailingPod, heals: number): Promise<void> {
  const given = await deps.db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable('cloud_pods').set({ heal_given_up_at: sql`now()` }).where('id', '=', pod.id)
      .where('heal_given_up_at', 'is', null).where('generation', '=', pod.generation).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return false;
    await recordAudit(trx, { actor, category: 'health', action: 'heal.given_up', tenantId: pod.tenant_id, podId: pod.id,
      details: { heals_last_hour: heals, failures: { reason: pod.reason, message: pod.message, consecutive: pod.failures } } });
    await podKind.enqueue(deps.engine, trx, pod.id);
    return true;
  });
  if (!given) return;
  deps.healed?.inc({ action: 'none', result: 'given_up' });
  deps.log.warn({ pod: pod.id, heals, reason: pod.reason },
    `auto-heal gave up on pod ${pod.id} after ${heals} heals within the hour: ${pod.message}`);
}
