import { sql } from 'kysely';
import type { PodRow } from '../../src/pods/store.ts';
import { ConflictError, NotFoundError } from '../../src/proxmox/errors.ts';
import { podKind } from '../../src/pods/kind.ts';
import type { Template } from '../../src/tenancy/templates.ts';
import type { PodContext } from './context.ts';
import { ownerMarker } from '../../src/proxmox/vm-ownership.ts';

/** How a clone attempt ended: started (UPID recorded), every slot taken, the count being made elsewhere, or the VMID
 * taken by a VM that appeared meanwhile. */
export type CloneOutcome = 'started' | 'busy' | 'contended' | 'taken';

/**
 * Clones the template into the pod's VMID, at most `clonesPerNode` at once per target node across every process
 * (an advisory lock, only ever tried, serialises the count), recording the UPID in the same transaction.
 */
export async function cloneIntoSlot(ctx: PodContext, pod: PodRow, template: Template): Promise<CloneOutcome> {
  const snapshot = await ctx.cluster.snapshot();
  const source = snapshot.vms.get(template.proxmox_template_vmid);
  if (!source?.node) throw new NotFoundError(`template VM ${template.proxmox_template_vmid} is not in the cluster`);
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    // Never wait for the lock while holding a pooled connection: another process is counting; look again soon.
    const locked = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext(${`cloudpods-clone:${pod.node}`})) as ok`
      .execute(trx);
    if (!locked.rows[0]?.ok) return 'contended' as const;
    const running = await trx.selectFrom('cloud_pods').select(sql<number>`count(*)::int`.as('n'))
      .where('node', '=', pod.node).where('task_upid', 'like', '%:qmclone:%').executeTakeFirstOrThrow();
    if (running.n >= ctx.clonesPerNode) return 'busy' as const;
    try {
      const upid = await ctx.proxmox.clone(source.node!, template.proxmox_template_vmid, {
        newid: pod.vmid!, name: pod.name, full: true, storage: template.storage_pool,
        description: ownerMarker(pod.id), ...(pod.node !== source.node ? { target: pod.node! } : {}),
      });
      await trx.updateTable('cloud_pods').set({ task_upid: upid, clone_queued_at: null, updated_at: sql`now()` })
        .where('id', '=', pod.id).execute();
      return 'started' as const;
    } catch (error) {
      if (error instanceof ConflictError && error.reason === 'already-exists') return 'taken' as const;
      throw error;
    }
  });
  ctx.cluster.invalidate();
  return outcome;
}

/** The pod joins its node's clone queue (keeping its place when it is already in it). */
export async function queueForClone(ctx: PodContext, podId: string): Promise<void> {
  await ctx.db.updateTable('cloud_pods').set({ clone_queued_at: sql`coalesce(clone_queued_at, now())` })
    .where('id', '=', podId).execute();
}

/**
 * A clone slot of the node came free: the longest-queued pods there try now rather than at their recheck. As
 * many as the node has slots are woken, since clones finishing together would otherwise all wake the same pod;
 * those that find no slot stay queued.
 */
export async function wakeQueuedClones(ctx: PodContext, node: string): Promise<void> {
  const next = await ctx.db.selectFrom('cloud_pods').select('id').where('node', '=', node)
    .where('clone_queued_at', 'is not', null).where('deletion_requested_at', 'is', null)
    .orderBy('clone_queued_at').limit(ctx.clonesPerNode).execute();
  await podKind.enqueue(ctx.engine, ctx.db, next.map((p) => p.id));
}
