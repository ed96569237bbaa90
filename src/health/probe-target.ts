import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { parseAllowedNetworks, refusalOf } from '../hooks/address-guard.ts';
import type { Network } from '../net/cidr.ts';
import { plainAddress } from '../tenancy/ip-pools.ts';

/**
 * Where a pod's probe would connect, checked when the probe is ordered. A probe targets the pod's own IPv4
 * address, so the address guard of http hooks (src/hooks/address-guard.ts) judges that address: a pod that holds
 * one is judged by it; a pod still waiting for one by every active IPv4 pool that could give it one (those serving
 * its requested node, or all), since it may get any of them. A private pool's pods are probed once an admin lists
 * the pool's network in `cloudpods.webhooks.allowed_networks`, as for hooks; without pools nothing is known yet and
 * the probe is accepted. The guard decides again at every connect (src/health/probe.ts), so a setting changed
 * later, or a range straddling a refused one, ends in `ProbeRefused` rather than a connection.
 */

export interface ProbeTargetSettings {
  getJson<T = unknown>(name: string): Promise<T>;
}

/** The admin allow-list the probe guard applies (the hooks' one). */
export async function probeAllowedNetworks(settings: ProbeTargetSettings): Promise<Network[]> {
  return parseAllowedNetworks(await settings.getJson('cloudpods.webhooks.allowed_networks'));
}

/** Why the pod's probe could be refused, or null when every address it could target is permitted. */
export async function probeTargetRefusal(db: Kysely<Database>, settings: ProbeTargetSettings,
  pod: { id: string | null; requestedNode: string | null }): Promise<string | null> {
  const allowed = await probeAllowedNetworks(settings);
  const howToAllow = 'an admin may allow its network in cloudpods.webhooks.allowed_networks';
  if (pod.id !== null) {
    const held = await db.selectFrom('cloud_ip_allocations').select('address').where('pod_id', '=', pod.id)
      .where('family', '=', 4).execute();
    if (held.length > 0) {
      const refusals = held.map((row) => refusalOf(plainAddress(row.address), allowed)).filter((r) => r !== null);
      return refusals.length === 0 ? null : `the pod's address ${refusals[0]} is refused for probes; ${howToAllow}`;
    }
  }
  let pools = db.selectFrom('cloud_ip_pools').select(['name', 'range_start', 'range_end']).where('family', '=', 4)
    .where('is_active', '=', true).orderBy('name');
  if (pod.requestedNode) {
    const node = pod.requestedNode;
    pools = pools.where((eb) => eb.or([eb(eb.fn('cardinality', ['nodes']), '=', 0), eb(eb.val(node), '=', eb.fn.any('nodes'))]));
  }
  for (const pool of await pools.execute()) {
    const refusal = refusalOf(plainAddress(pool.range_start), allowed) ?? refusalOf(plainAddress(pool.range_end), allowed);
    if (refusal) return `the pod may get an address of pool ${pool.name}, ${refusal}, which is refused for probes; ${howToAllow}`;
  }
  return null;
}
