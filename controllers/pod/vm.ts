import { createHmac } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import { syncPodDnsRecords, type PodForDns } from '../../src/dns/pod-records.ts';
import type { PodRow } from '../../src/pods/store.ts';
import type { DesiredConfig } from '../../src/proxmox/encoding/config-write.ts';
import { renderCloudInit } from '../../src/tenancy/cloud-init.ts';
import type { allocationsOfPod } from '../../src/tenancy/ip-pools.ts';
import { isAppStack, stackOptionSchemas } from '../../src/tenancy/stacks.ts';
import type { Template } from '../../src/tenancy/templates.ts';
import type { PodContext } from './context.ts';
import { desiredVmConfig, type PodAddress } from './desired-config.ts';
import { ownedBy } from '../../src/proxmox/vm-ownership.ts';

/** The pod's address allocations with their pools, as observed. */
export type PodAllocations = Awaited<ReturnType<typeof allocationsOfPod>>;

/** Per-pod secrets derive from the pod's seed, so user-data rendered again is the same bytes. */
const derivedSecret = (seed: string, purpose: string) =>
  createHmac('sha256', seed).update(purpose).digest('base64url').slice(0, 24);

/** The configuration the pod asks for; an app stack's user-data is (re)uploaded as a snippet first. */
export async function desiredConfigOf(ctx: PodContext, pod: PodRow, template: Template, allocations: PodAllocations)
  : Promise<DesiredConfig> {
  const addresses: PodAddress[] = allocations.map((a) => ({
    address: a.address, family: a.family, prefix: Number(a.pool.cidr.split('/')[1]), gateway: a.pool.gateway,
    bridge: a.pool.bridge, vlan: a.pool.vlan, nameservers: a.pool.nameservers,
  }));
  let userDataVolid: string | null = null;
  if (template.app_stack && isAppStack(template.app_stack) && pod.node) {
    const options = stackOptionSchemas[template.app_stack].parse(pod.app_options);
    const userData = renderCloudInit(template.app_stack, options as never, {
      hostname: pod.hostname ?? pod.name, databasePassword: derivedSecret(pod.secret_seed ?? pod.id, 'database'),
    });
    userDataVolid = await ctx.proxmox.uploadSnippet(pod.node, `cloudpods-${pod.id}.yaml`, userData);
  }
  return desiredVmConfig({ pod, templateBridge: template.network_bridge, addresses, userDataVolid });
}

/** Right before a stop or destroy: a fresh read of the VM must carry this pod's marks, or nothing happens. */
export async function proveOwnership(ctx: PodContext, pod: PodRow): Promise<void> {
  const config = await ctx.proxmox.getConfig(pod.node!, pod.vmid!);
  if (!ownedBy(pod.id, { tags: String(config.tags ?? ''), description: String(config.description ?? '') })) {
    throw new Error(`VM ${pod.vmid} on ${pod.node} does not carry pod ${pod.id}'s marks: refusing to stop or destroy it`);
  }
}

/** The addresses the guest agent reports on the pod's `net0` (by MAC), without loopback and link-local ones. */
export function podAddressesFrom(interfaces: Array<{ name: string; 'hardware-address'?: string;
  'ip-addresses'?: Array<{ 'ip-address': string }> }>, net0: string | undefined): string[] {
  const mac = /=([0-9A-Fa-f:]{17})/.exec(net0 ?? '')?.[1]?.toUpperCase();
  return interfaces
    .filter((i) => i.name !== 'lo' && (!mac || i['hardware-address']?.toUpperCase() === mac))
    .flatMap((i) => i['ip-addresses'] ?? [])
    .map((a) => a['ip-address'])
    .filter((a) => !a.startsWith('fe80:') && !a.startsWith('127.') && a !== '::1');
}

/** Records the addresses; the pod's DNS names follow them in the same transaction (spec 8). */
export async function recordAddresses(ctx: PodContext, pod: PodRow, addresses: string[]): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('cloud_pods').set({ ip_addresses: JSON.stringify(addresses), updated_at: sql`now()` })
      .where('id', '=', pod.id).execute();
    if (ctx.dns) await syncNames(ctx, trx, { ...pod, ip_addresses: addresses });
  });
}

/**
 * After a spec change: the hostname may have been set, changed or removed, so the pod's own records follow it
 * (for the addresses already known). Read under the row's lock, so a spec write cannot interleave.
 */
export async function followHostname(ctx: PodContext, podId: string): Promise<void> {
  if (!ctx.dns) return;
  await ctx.db.transaction().execute(async (trx) => {
    const pod = await trx.selectFrom('cloud_pods').select(['id', 'tenant_id', 'hostname', 'zone', 'ip_addresses'])
      .where('id', '=', podId).forNoKeyUpdate().executeTakeFirst();
    if (pod) await syncNames(ctx, trx, pod);
  });
}

async function syncNames(ctx: PodContext, trx: Kysely<Database>, pod: PodForDns): Promise<void> {
  const sync = await syncPodDnsRecords(trx, ctx.engine, pod);
  if (sync.conflicts.length > 0) ctx.log.warn({ id: pod.id, names: sync.conflicts }, 'DNS names held by another tenant');
}
