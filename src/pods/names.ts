import { isBareLabel, parseHostname } from '../dns/names.ts';
import { NameRefusedError, resolveName } from '../dns/zones.ts';
import { AppError } from '../errors.ts';
import { findTenant } from '../tenancy/tenants.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { PowerDns } from '../powerdns/context.ts';
import type { ZoneSettings } from '../dns/zones.ts';

/** What the naming rule reads: the tenant, the zone settings, and PowerDNS when it runs. */
export interface NameDeps {
  db: Kysely<Database>;
  settings: ZoneSettings;
  pdns: PowerDns | null;
}

/** A pod's hostname and zone: what its orders ask and what its row holds. */
export type PodName = { hostname: string | null; zone: string | null };

/**
 * The hostname and zone a pod holds, in row form, by the DNS names' rule (`resolveName`: a bare label is relative
 * to the zone, a dotted name lies inside it or, without a zone, goes in the longest usable served zone). With DNS
 * running the name gets records, so a zone named must be served and open to the tenant (`tenantId` null: an admin).
 */
export async function podName(deps: NameDeps, tenantId: string | null, asked: PodName): Promise<PodName> {
  if (!asked.hostname) {
    if (!asked.zone) return { hostname: null, zone: null };
    const zone = parseHostname(asked.zone);
    if ('problem' in zone) throw new NameRefusedError('zone', zone.problem);
    return { hostname: null, zone: zone.name };
  }
  const tenant = tenantId === null ? null : await findTenant(deps.db, tenantId);
  if (tenant === undefined) throw new AppError(404, 'not_found', 'tenant not found', undefined, 'TenantUnknown');
  return resolveName(deps.settings, deps.pdns, tenant, { hostname: asked.hostname, zone: asked.zone },
    { checkZone: deps.pdns !== null });
}

/**
 * The name a change asks for: fields left out keep the pod's; a new bare label goes in the pod's zone, a new dotted
 * name given without a zone in the zone inferred for it.
 */
export function askedName(pod: PodName, change: Partial<PodName>): PodName {
  const hostname = change.hostname !== undefined ? change.hostname : pod.hostname;
  const inferZone = change.zone === undefined && !!change.hostname && !isBareLabel(change.hostname.replace(/\.$/, ''));
  return { hostname, zone: inferZone ? null : change.zone !== undefined ? change.zone : pod.zone };
}
