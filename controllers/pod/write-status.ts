import { isDeepStrictEqual } from 'node:util';
import { sql } from 'kysely';
import type { PodStatus } from '../../src/db/schema.ts';
import { recordAudit } from '../../src/observability/audit.ts';
import { publishLifecycleEvent } from '../../src/pods/lifecycle.ts';
import { isTrue, type ConditionUpdate } from '../../src/runtime/conditions.ts';
import { enqueueReconcile } from '../../src/runtime/controller.ts';
import type { PodContext } from './context.ts';
import { podPhase, terminalReasonOf, withConditions } from './status.ts';

/**
 * Writes phase, conditions and observed generation only when they changed; a phase change is audited, and the
 * first `active` publishes `pod.post_create` and wakes volumes ordered while the pod was provisioning.
 */
export async function writePodStatus(ctx: PodContext, podId: string, settled: boolean, updates: ConditionUpdate[])
  : Promise<void> {
  const current = await ctx.db.selectFrom('cloud_pods').selectAll().where('id', '=', podId).executeTakeFirst();
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
  await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('cloud_pods').set({ status: phase, conditions: JSON.stringify(conditions),
      observed_generation: observedGeneration, updated_at: sql`now()` }).where('id', '=', podId).execute();
    if (phase === current.status) return;
    await recordAudit(trx, { actor: { type: 'controller', id: 'pod' }, category: 'lifecycle', action: `pod.${phase}`,
      tenantId: current.tenant_id, podId, details: { from: current.status, to: phase, vmid: current.vmid, node: current.node } });
    if (phase === 'active' && !isTrue(current.conditions, 'Provisioned')) {
      const volumes = await trx.selectFrom('cloud_pod_volumes').select('id').where('pod_id', '=', podId).execute();
      for (const volume of volumes) await enqueueReconcile(ctx.engine, trx, 'volume', volume.id);
      await publishLifecycleEvent(trx, ctx.engine, { event: 'pod.post_create', podId, tenantId: current.tenant_id,
        data: { name: current.name, vmid: current.vmid, node: current.node, ip_addresses: current.ip_addresses } });
    }
  });
}
