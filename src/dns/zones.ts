import type { PowerDns } from '../powerdns/context.ts';
import { isWithinZone } from './names.ts';

/** The settings the zone rules read (SystemSettingsService, or a plain object in tests). */
export interface ZoneSettings {
  getJson<T = unknown>(name: string): Promise<T>;
}

/**
 * A zone the platform serves: listed in `cloudpods.dns.platform_zones`, or existing in PowerDNS. A listed zone that
 * PowerDNS does not have yet is accepted; its records wait in error ZoneNotFound until an operator creates it.
 */
export async function platformServesZone(settings: ZoneSettings, pdns: PowerDns | null, zone: string): Promise<boolean> {
  const listed = await settings.getJson<string[]>('cloudpods.dns.platform_zones');
  if (listed.includes(zone)) return true;
  return pdns !== null && (await pdns.zones.find(zone)) !== null;
}

/**
 * Whether a tenant may put names in a zone: `cloudpods.dns.tenant_zones` lists zones by tenant slug or id, and
 * under "*" for every tenant; a listed zone also allows the zones inside it. Admin tokens are not asked.
 */
export async function tenantMayUseZone(settings: ZoneSettings, tenant: { id: string; slug: string }, zone: string): Promise<boolean> {
  const byTenant = await settings.getJson<Record<string, string[]>>('cloudpods.dns.tenant_zones');
  const allowed = [...(byTenant['*'] ?? []), ...(byTenant[tenant.slug] ?? []), ...(byTenant[tenant.id] ?? [])];
  return allowed.some((z) => isWithinZone(zone, z));
}
