import { deletePodDnsRecords, podDnsRecordsGone } from '../../src/dns/pod-records.ts';
import { recordAudit } from '../../src/observability/audit.ts';
import { publishLifecycleEvent } from '../../src/hooks/events.ts';
import type { PodRow } from '../../src/pods/store.ts';
import { releaseAddresses } from '../../src/tenancy/ip-pools.ts';
import { markPodVolumesDeleting } from '../../src/volumes/pod-volumes.ts';
import type { PodContext } from './context.ts';

/**
 * The volumes of a pod being deleted are marked for deletion here, once its blocking pod.pre_destroy hooks have been
 * delivered (not by the deletion order), and again on every look until they are gone, which costs nothing.
 */
export async function removeVolumes(ctx: PodContext, podId: string): Promise<void> {
  await ctx.db.transaction().execute((trx) => markPodVolumesDeleting(trx, ctx.engine, podId));
}

/**
 * DNS records go before the row (spec 8: "on pod.deleted → delete record"). With the DNS controller running they
 * are marked for deletion and awaited; without it nothing can reach PowerDNS, so the rows are dropped.
 */
export async function dnsRecordsRemoved(ctx: PodContext, pod: PodRow): Promise<boolean> {
  if (await podDnsRecordsGone(ctx.db, pod.id)) return true;
  if (!ctx.dns) {
    ctx.log.warn({ id: pod.id }, 'PowerDNS is not configured: dropping the pod\'s DNS rows without touching PowerDNS');
    await ctx.db.deleteFrom('cloud_pod_dns_records').where('pod_id', '=', pod.id).execute();
    return true;
  }
  await ctx.db.transaction().execute((trx) => deletePodDnsRecords(trx, ctx.engine, pod.id));
  return false;
}

/** The last step: addresses released, `pod.post_destroy` published, the deletion audited and the row removed. */
export async function finishDelete(ctx: PodContext, pod: PodRow): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const released = await releaseAddresses(trx, pod.id);
    await publishLifecycleEvent(trx, ctx.engine, { event: 'pod.post_destroy', podId: pod.id, tenantId: pod.tenant_id,
      data: { name: pod.name, vmid: pod.vmid, node: pod.node } });
    await recordAudit(trx, { actor: { type: 'controller', id: 'pod' }, category: 'lifecycle', action: 'pod.deleted',
      tenantId: pod.tenant_id, podId: pod.id, details: { name: pod.name, vmid: pod.vmid, node: pod.node, released } });
    await trx.deleteFrom('cloud_pods').where('id', '=', pod.id).execute();
  });
}
