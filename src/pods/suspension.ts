import { sql, type Kysely } from 'kysely';
import type { Database, PowerState } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';
import { recordAudit, type Actor } from '../observability/audit.ts';
import { podKind } from './kind.ts';

/**
 * Hosting panels power a suspended customer's machines off. Suspension stops the tenant's running pods and marks
 * them (`suspension_stopped_at`), so reinstating the tenant starts exactly those: a pod its tenant had stopped stays
 * stopped. Both run in the transaction that changes the tenant's status, after `lockTenantPods`; each pod's change
 * moves its generation, is audited like an order's (`pod.updated`, with the reason) and enqueues its reconcile. This
 * is the platform acting, not a front door, so pods managed through Kubernetes are stopped too (their bridge's
 * attempts to start them are refused while the tenant is suspended).
 */

export interface SuspensionScope {
  engine: JobEngine;
  tenantId: string;
  actor: Actor;
  requestId?: string | undefined;
}

/**
 * Locks the tenant's live pods before the tenant row is locked: pod orders lock a pod, then the tenant (quota), so
 * taking them in the same order cannot deadlock with one. The lock is the one the update takes anyway (no key
 * update): the controller's address allocation, which holds the tenant row, only key-shares the pod row.
 */
export async function lockTenantPods(trx: Kysely<Database>, tenantId: string): Promise<void> {
  await trx.selectFrom('cloud_pods').select('id').where('tenant_id', '=', tenantId)
    .where('deletion_requested_at', 'is', null).orderBy('id').forNoKeyUpdate().execute();
}

/** Stops the tenant's running pods and marks them; returns their ids. */
export async function stopPodsForSuspension(trx: Kysely<Database>, scope: SuspensionScope): Promise<string[]> {
  const pods = await trx.updateTable('cloud_pods')
    .set({ power_state: 'stopped', suspension_stopped_at: sql`now()`, generation: sql`generation + 1`,
      updated_at: sql`now()` })
    .where('tenant_id', '=', scope.tenantId).where('deletion_requested_at', 'is', null)
    .where('power_state', '=', 'running').returning('id').execute();
  return recordPowerChanges(trx, scope, pods, 'stopped', 'tenant.suspended');
}

/** Starts the pods the tenant's suspension stopped and clears their mark; returns their ids. */
export async function startPodsStoppedBySuspension(trx: Kysely<Database>, scope: SuspensionScope): Promise<string[]> {
  const pods = await trx.updateTable('cloud_pods')
    .set({ power_state: 'running', suspension_stopped_at: null, generation: sql`generation + 1`, updated_at: sql`now()` })
    .where('tenant_id', '=', scope.tenantId).where('deletion_requested_at', 'is', null)
    .where('suspension_stopped_at', 'is not', null).returning('id').execute();
  return recordPowerChanges(trx, scope, pods, 'running', 'tenant.reinstated');
}

async function recordPowerChanges(trx: Kysely<Database>, scope: SuspensionScope, pods: Array<{ id: string }>,
  power: PowerState, reason: string): Promise<string[]> {
  const old: PowerState = power === 'running' ? 'stopped' : 'running';
  for (const pod of pods) {
    await recordAudit(trx, { actor: scope.actor, category: 'lifecycle', action: 'pod.updated', tenantId: scope.tenantId,
      podId: pod.id, requestId: scope.requestId, details: { changes: { power_state: { old, new: power } }, reason } });
    await podKind.enqueue(scope.engine, trx, pod.id);
  }
  return pods.map((pod) => pod.id);
}
