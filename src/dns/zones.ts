import { AppError } from '../errors.ts';
import type { PowerDns } from '../powerdns/context.ts';
import { isBareLabel, isWithinZone, parseHostname, qualifyName, zonesContaining } from './names.ts';

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

/** Who names: a tenant, bound by `cloudpods.dns.tenant_zones`, or null for a platform admin (any served zone). */
export type ZoneUser = { id: string; slug: string } | null;

/** A hostname as asked: a bare label with its zone, or a dotted name with or without one. */
export interface NameRequest {
  hostname: string;
  zone?: string | null;
}

/** A name refused: 400 naming the field (SpecInvalid), or 403 for a zone the tenant may not use (ZoneNotAllowed). */
export class NameRefusedError extends AppError {
  constructor(field: 'hostname' | 'zone', message: string, forbiddenZone?: string) {
    super(forbiddenZone ? 403 : 400, forbiddenZone ? 'forbidden' : 'validation_error', `invalid request: ${field}: ${message}`,
      { fields: [{ name: field, messages: [message] }], ...(forbiddenZone ? { zone: forbiddenZone } : {}) },
      forbiddenZone ? 'ZoneNotAllowed' : 'SpecInvalid');
  }
}

/**
 * The name a pod or DNS record gets, in row form, by the one rule (`qualifyName`). Without a zone, a dotted name
 * goes in the longest served zone the user may use that contains it. With `checkZone`, a zone named must be served
 * and open to the tenant. Throws NameRefusedError.
 */
export async function resolveName(settings: ZoneSettings, pdns: PowerDns | null, user: ZoneUser, request: NameRequest,
  { checkZone = true } = {}): Promise<{ hostname: string; zone: string }> {
  const usable = async (zone: string) => (user === null || await tenantMayUseZone(settings, user, zone))
    && await platformServesZone(settings, pdns, zone);
  if (!request.zone) {
    const host = parseHostname(request.hostname);
    if ('problem' in host) throw new NameRefusedError('hostname', host.problem);
    if (isBareLabel(host.name)) throw new NameRefusedError('zone', 'required with a bare label as hostname');
    for (const zone of zonesContaining(host.name)) if (await usable(zone)) return { hostname: host.name, zone };
    throw new NameRefusedError('zone', `no zone ${user ? `tenant ${user.slug} may use` : 'served'} contains ${host.name}: name one`);
  }
  const name = qualifyName(request.hostname, request.zone);
  if ('problem' in name) throw new NameRefusedError(name.field, name.problem);
  if (checkZone && !(await platformServesZone(settings, pdns, name.zone))) {
    throw new NameRefusedError('zone', `${name.zone} is not a zone this platform serves`);
  }
  if (checkZone && user !== null && !(await tenantMayUseZone(settings, user, name.zone))) {
    throw new NameRefusedError('zone', `tenant ${user.slug} may not use the zone ${name.zone}`, name.zone);
  }
  return name;
}
