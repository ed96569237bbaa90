import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { PodRow } from '../../src/pods/store.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import type { Template } from '../../src/tenancy/templates.ts';
import type { ClusterView } from './cluster-view.ts';
import { bootDisk } from '../../src/proxmox/vm-disks.ts';
import { chooseVmid, choosePlacement, type NodeCandidate } from './placement.ts';

export type PlaceOutcome =
  | { ok: true; node: string; vmid: number }
  | { ok: false; reason: 'TemplateInvalid' | 'NodeUnavailable' | 'NoCapacity' | 'NoVmid'; message: string };

/** Whether a template's disks are on shared storage, learnt once per template VM (templates do not move disks). */
const sharedTemplates = new Map<number, boolean>();

async function templateOnSharedStorage(proxmox: ProxmoxClient, cluster: ClusterView, node: string, vmid: number)
  : Promise<boolean> {
  const known = sharedTemplates.get(vmid);
  if (known !== undefined) return known;
  const config = await proxmox.getConfig(node, vmid);
  const disk = bootDisk(config);
  const storage = disk ? String(config[disk]).split(':')[0] : undefined;
  const { storages } = await cluster.snapshot();
  const shared = storages.some((s) => s.storage === storage && Number((s as { shared?: unknown }).shared) === 1);
  sharedTemplates.set(vmid, shared);
  return shared;
}

/**
 * Chooses the node and the VMID of a new pod's VM and records both before any clone, so a crash never leaves a
 * VM whose number nobody wrote down. The VMID is the lowest of the configured range held neither by a pod row nor
 * by any VM of the cluster, chosen under the placement lock (the unique index stands behind it).
 */
export async function placePod(db: Kysely<Database>, proxmox: ProxmoxClient, cluster: ClusterView, pod: PodRow,
  template: Template, range: { min: number; max: number }): Promise<PlaceOutcome> {
  const snapshot = await cluster.snapshot();
  const source = snapshot.vms.get(template.proxmox_template_vmid);
  if (!source?.node) {
    return { ok: false, reason: 'TemplateInvalid',
      message: `template ${template.code}: VM ${template.proxmox_template_vmid} does not exist in the cluster` };
  }
  const crossNodeClone = await templateOnSharedStorage(proxmox, cluster, source.node, template.proxmox_template_vmid);
  // One placement at a time, so each sees the memory the previous ones committed (concurrent reconciles would
  // otherwise all pick the same least-loaded node). The lock is held for a few queries only.
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('cloudpods-placement'))`.execute(trx);
    const committed = await trx.selectFrom('cloud_pods').select(['node', sql<number>`sum(memory_mb)::int`.as('mb'),
      sql<number>`(count(*) filter (where status in ('pending', 'provisioning')))::int`.as('provisioning')])
      .where('node', 'is not', null).groupBy('node').execute();
    const candidates: NodeCandidate[] = snapshot.nodes.map((n) => {
      const storage = snapshot.storages.find((s) => s.storage === template.storage_pool && s.node === n.node);
      return {
        node: n.node!, online: n.status === 'online',
        storageAvailBytes: storage?.maxdisk !== undefined ? storage.maxdisk - (storage.disk ?? 0) : undefined,
        maxMemBytes: n.maxmem ?? 0, committedMemMb: committed.find((c) => c.node === n.node)?.mb ?? 0,
        provisioning: committed.find((c) => c.node === n.node)?.provisioning ?? 0,
      };
    });
    const placement = choosePlacement({
      requestedNode: pod.requested_node, defaultNode: template.default_node, templateNode: source.node!,
      crossNodeClone, diskGiB: pod.disk_gb, memoryMb: pod.memory_mb,
    }, candidates);
    if (!placement.ok) return placement;
    const held = await trx.selectFrom('cloud_pods').select('vmid').where('vmid', '>=', range.min)
      .where('vmid', '<=', range.max).execute();
    const vmid = chooseVmid(range, new Set<number>([...held.map((r) => r.vmid!), ...snapshot.vms.keys()]));
    if (vmid === undefined) {
      return { ok: false, reason: 'NoVmid', message: `every VMID from ${range.min} to ${range.max} is in use` } as const;
    }
    const claimed = await trx.updateTable('cloud_pods').set({ vmid, node: placement.node, updated_at: sql`now()` })
      .where('id', '=', pod.id).where('vmid', 'is', null).executeTakeFirst();
    if (claimed.numUpdatedRows === 0n) return { ok: false, reason: 'NoVmid', message: 'the pod was placed meanwhile' } as const;
    return { ok: true, node: placement.node, vmid } as const;
  });
}
