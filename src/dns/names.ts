/**
 * Host and zone names as rows store them: RFC 1123 (letters, digits, inner hyphens; labels of 1 to 63 characters),
 * lower-case, without the trailing dot, at most 253 characters. PowerDNS itself accepts `_` and more; we do not.
 */

const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The name lower-cased without its trailing dot, or a message saying what is wrong with it. */
export function parseHostname(input: string): { name: string } | { problem: string } {
  const name = input.trim().toLowerCase().replace(/\.$/, '');
  if (name.length === 0) return { problem: 'must not be empty' };
  if (name.length > 253) return { problem: 'must be at most 253 characters' };
  const labels = name.split('.');
  if (labels.some((l) => l.length > 63)) return { problem: 'each label must be at most 63 characters' };
  if (!labels.every((l) => label.test(l))) {
    return { problem: 'expected an RFC 1123 host name: letters, digits and inner hyphens between dots' };
  }
  return { name };
}

/** The zone itself or a name inside it (both in row form). */
export const isWithinZone = (hostname: string, zone: string): boolean =>
  hostname === zone || hostname.endsWith(`.${zone}`);
