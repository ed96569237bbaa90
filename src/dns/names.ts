import { dnsLabel, dnsNameMaxLength, dnsNameMessage } from './label.ts';

/**
 * Host and zone names as rows store them (src/dns/label.ts): RFC 1123 (letters, digits, inner hyphens; labels of 1
 * to 63 characters), lower-case, without the trailing dot, at most 253 characters. PowerDNS itself accepts `_` and
 * more; we do not.
 */

/** The name lower-cased without its trailing dot, or a message saying what is wrong with it. */
export function parseHostname(input: string): { name: string } | { problem: string } {
  const name = input.trim().toLowerCase().replace(/\.$/, '');
  if (name.length === 0) return { problem: 'must not be empty' };
  if (name.length > dnsNameMaxLength) return { problem: `must be at most ${dnsNameMaxLength} characters` };
  const labels = name.split('.');
  if (labels.some((l) => l.length > 63)) return { problem: 'each label must be at most 63 characters' };
  if (!labels.every((l) => dnsLabel.test(l))) return { problem: dnsNameMessage };
  return { name };
}

/** The zone itself or a name inside it (both in row form). */
export const isWithinZone = (hostname: string, zone: string): boolean =>
  hostname === zone || hostname.endsWith(`.${zone}`);

/** A name without a dot: relative to its zone. */
export const isBareLabel = (hostname: string): boolean => !hostname.includes('.');

export type QualifiedName = { hostname: string; zone: string } | { field: 'hostname' | 'zone'; problem: string };

/**
 * The one naming rule of pods and DNS records (row form): a bare label is relative to the zone, any other name
 * must be the zone or lie inside it.
 */
export function qualifyName(hostname: string, zone: string): QualifiedName {
  const zoneName = parseHostname(zone);
  if ('problem' in zoneName) return { field: 'zone', problem: zoneName.problem };
  const host = parseHostname(hostname);
  if ('problem' in host) return { field: 'hostname', problem: host.problem };
  const full = isBareLabel(host.name) ? `${host.name}.${zoneName.name}` : host.name;
  const parsed = parseHostname(full);
  if ('problem' in parsed) return { field: 'hostname', problem: parsed.problem };
  if (!isWithinZone(full, zoneName.name)) return { field: 'hostname', problem: `must be a label, or a name inside ${zoneName.name}` };
  return { hostname: full, zone: zoneName.name };
}

/** The zones that could hold a name, longest first: the name itself, then each parent (`a.b.c` → `b.c` → `c`). */
export const zonesContaining = (hostname: string): string[] =>
  hostname.split('.').map((_, i, labels) => labels.slice(i).join('.'));

/**
 * Whether a row's name is the one asked for (pure, for front doors comparing a spec with its row): the row holds
 * the qualified hostname; a dotted hostname asked without a zone leaves the zone to inference, so any zone matches.
 */
export function nameIsAsAsked(row: { hostname: string | null; zone: string | null },
  asked: { hostname?: string | null; zone?: string | null }): boolean {
  const normal = (name: string | null | undefined) => name ? name.trim().toLowerCase().replace(/\.$/, '') : null;
  const hostname = normal(asked.hostname);
  const zone = normal(asked.zone);
  if (hostname === null) return (row.hostname ?? null) === null && (row.zone ?? null) === zone;
  if (zone === null) return !isBareLabel(hostname) && row.hostname === hostname;
  const qualified = qualifyName(hostname, zone);
  return 'hostname' in qualified && row.hostname === qualified.hostname && row.zone === qualified.zone;
}
