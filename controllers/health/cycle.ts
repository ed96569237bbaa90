import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { ClusterSnapshot, ClusterView } from '../pod/cluster-view.ts';
import { judge, nextRecord, notCheckedBecause, recordChanged, type HealthRecord, type Verdict } from './decide.ts';
import { autoHeal, type FailingPod, type HealDeps } from './heal.ts';
import { nodeOnline, observeProbes, type CheckedPod, type ObserveHealthDeps } from './observe.ts';
import { healthReasons } from './reasons.ts';

export interface CycleDeps extends ObserveHealthDeps, HealDeps {
  db: Kysely<Database>;
  cluster: ClusterView;
  log: Logger;
}

type FleetPod = CheckedPod & Pick<FailingPod, 'tenant_id' | 'heal_given_up_at'>;

/** What one cycle did, for tests, the benchmark and the log. */
export interface CycleSummary {
  checked: number;
  healthy: number;
  unhealthy: number;
  /** Records written (checked pods always, pods not checked only when their record changed). */
  written: number;
}

/**
 * One health cycle over the fleet: one query for the pods, one bulk `cluster/resources` for every VM's state, the
 * guest agent pings (and probes) of the pods checked, and one statement writing every record, fenced by the
 * generation read (a pod changed meanwhile keeps its record until the next cycle).
 */
export async function checkFleet(deps: CycleDeps, signal: AbortSignal): Promise<CycleSummary> {
  const pods: FleetPod[] = await deps.db.selectFrom('cloud_pods as p')
    .innerJoin('cloud_pod_templates as t', 't.id', 'p.template_id')
    .select(['p.id', 'p.generation', 'p.conditions', 'p.task_upid', 'p.deletion_requested_at', 'p.power_state', 'p.vmid',
      'p.node', 'p.ip_addresses', 'p.health_check', 'p.health_status', 'p.health_reason', 'p.health_message', 'p.health_failures',
      'p.tenant_id', 'p.heal_given_up_at', 't.proxmox_template_vmid as template_vmid'])
    .execute() as FleetPod[];
  const checked = pods.filter((pod) => notCheckedBecause(pod) === null);

  const verdicts = new Map<string, Verdict>();
  if (checked.length > 0) {
    // A fresh look (the pod controller's reconciles share it afterwards).
    deps.cluster.invalidate();
    let snapshot: ClusterSnapshot | undefined;
    try {
      snapshot = await deps.cluster.snapshot();
    } catch (error) {
      deps.log.warn({ err: error }, 'health cycle: Proxmox did not answer the look at the cluster');
      for (const pod of checked) {
        verdicts.set(pod.id, { status: 'Unknown', reason: healthReasons.proxmoxUnavailable, message: (error as Error).message });
      }
    }
    if (snapshot) {
      const probes = await observeProbes(deps, checked, snapshot, signal);
      for (const pod of checked) {
        verdicts.set(pod.id, judge(pod, snapshot.vms.get(pod.vmid), nodeOnline(snapshot, pod.node),
          probes.get(pod.id) ?? { agent: 'not-asked' }));
      }
    }
  }

  const writes: Array<HealthRecord & { id: string; generation: number; checked: boolean }> = [];
  for (const pod of pods) {
    const verdict = verdicts.get(pod.id);
    if (verdict) {
      writes.push({ ...nextRecord(pod, verdict, true), id: pod.id, generation: pod.generation, checked: true });
      continue;
    }
    // Never checked and not checkable yet (a pod being created): nothing to say.
    if (pod.health_status === null) continue;
    const record = nextRecord(pod, { status: 'Unknown', reason: healthReasons.notChecked,
      message: `not checked: ${notCheckedBecause(pod)}` }, false);
    if (recordChanged(pod, record)) writes.push({ ...record, id: pod.id, generation: pod.generation, checked: false });
  }
  await writeRecords(deps.db, writes);
  const byId = new Map(pods.map((pod) => [pod.id, pod]));
  const failing: FailingPod[] = writes.filter((w) => w.checked && w.status === 'False').map((w) => {
    const pod = byId.get(w.id)!;
    return { id: w.id, tenant_id: pod.tenant_id, generation: w.generation, reason: w.reason, message: w.message,
      failures: w.failures, heal_given_up_at: pod.heal_given_up_at };
  });
  await autoHeal(deps, failing);
  const values = [...verdicts.values()];
  return { checked: checked.length, healthy: values.filter((v) => v.status === 'True').length,
    unhealthy: values.filter((v) => v.status === 'False').length, written: writes.length };
}

async function writeRecords(db: Kysely<Database>,
  writes: Array<HealthRecord & { id: string; generation: number; checked: boolean }>): Promise<void> {
  if (writes.length === 0) return;
  const rows = writes.map(({ id, generation, status, reason, message, failures, checked }) =>
    ({ id, generation, status, reason, message, failures, checked }));
  await sql`
    update cloud_pods p set
      health_status = v.status, health_reason = v.reason, health_message = v.message, health_failures = v.failures,
      health_checked_at = case when v.checked then now() else p.health_checked_at end,
      heal_started_at = case when v.checked then null else p.heal_started_at end,
      health_changed_at = case when p.health_status is distinct from v.status then now() else p.health_changed_at end
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as v(id uuid, generation integer, status text, reason text, message text, failures integer, checked boolean)
    where p.id = v.id and p.generation = v.generation`.execute(db);
}
