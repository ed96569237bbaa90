import { sql } from 'kysely';
import { AppError } from '../errors.ts';
import type { OrderScope } from '../front-door.ts';
import { recordAudit } from '../observability/audit.ts';
import { podKind } from './kind.ts';
import type { PodOrderDeps } from './orders.ts';
import { findPod, type Pod } from './store.ts';

/**
 * An admin's heal (`POST /api/cloud-pods/:id/actions/heal`): auto-heal may act on the pod again. It ends a
 * HealGivenUp and starts a new count of failures and of the hour's heals; the pod controller is asked to look, so
 * the phase leaves `error`. Audited (category `health`, `heal.requested`).
 */
export async function requestHeal(deps: Pick<PodOrderDeps, 'db' | 'engine'>, scope: OrderScope, id: string): Promise<Pod> {
  await deps.db.transaction().execute(async (trx) => {
    const pod = await trx.selectFrom('cloud_pods').select(['id', 'tenant_id', 'name', 'heal_given_up_at', 'health_failures',
      'deletion_requested_at']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!pod) throw new AppError(404, 'not_found', `pod ${id} not found`);
    if (pod.deletion_requested_at) throw new AppError(409, 'conflict', `pod ${pod.name} is being deleted`, undefined, 'PodDeleting');
    await trx.updateTable('cloud_pods').set({ heal_given_up_at: null, health_failures: 0, updated_at: sql`now()` })
      .where('id', '=', id).execute();
    await recordAudit(trx, { actor: scope.actor, category: 'health', action: 'heal.requested', tenantId: pod.tenant_id,
      podId: id, requestId: scope.requestId,
      details: { given_up_at: pod.heal_given_up_at?.toISOString() ?? null, failures: pod.health_failures } });
    await podKind.enqueue(deps.engine, trx, id);
  });
  return (await findPod(deps.db, id))!;
}
