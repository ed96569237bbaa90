import { isIPv4, isIPv6 } from 'node:net';

/**
 * Canonical forms of names and record contents, as PowerDNS 4.7 stores and serves them, so that comparing what we
 * want with what PowerDNS has is an exact string comparison (a no-op PATCH still bumps the zone serial).
 */

/** Lower-case, absolute (one trailing dot). `App.Example.COM` and `app.example.com.` both give `app.example.com.`. */
export function canonicalName(name: string): string {
  const trimmed = name.trim().toLowerCase().replace(/\.+$/, '');
  return `${trimmed}.`;
}

/** The name without its trailing dot, as rows store it. */
export const relativeName = (name: string): string => name.replace(/\.$/, '').toLowerCase();

/** Dotted quad without leading zeros; null when not an IPv4 address. */
export function canonicalIPv4(address: string): string | null {
  const text = address.trim();
  if (!isIPv4(text)) return null;
  return text.split('.').map((octet) => String(Number(octet))).join('.');
}

/** The eight 16-bit groups of an IPv6 address (an embedded dotted quad is folded in); null when not IPv6. */
export function ipv6Groups(address: string): number[] | null {
  let text = address.trim().toLowerCase();
  if (!isIPv6(text) || text.includes('%')) return null;
  // An embedded dotted quad (`::ffff:192.0.2.1`) is the last two groups written in decimal.
  text = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`);
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  if (text.includes('::')) {
    const [left, right] = text.split('::') as [string, string];
    const l = parse(left);
    const r = parse(right);
    groups = [...l, ...new Array<number>(Math.max(0, 8 - l.length - r.length)).fill(0), ...r];
  } else {
    groups = parse(text);
  }
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * RFC 5952 text: lower-case hex without leading zeros, the longest run of two or more zero groups (the first on a
 * tie) as `::`. This is what glibc's inet_ntop, and so PowerDNS, prints (`2001:DB8:0:0::0001` → `2001:db8::1`).
 */
export function canonicalIPv6(address: string): string | null {
  const groups = ipv6Groups(address);
  if (!groups) return null;
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Record content in PowerDNS's stored form; null when it is not valid for the type. */
export function canonicalContent(type: string, content: string): string | null {
  switch (type) {
    case 'A': return canonicalIPv4(content);
    case 'AAAA': return canonicalIPv6(content);
    case 'PTR': case 'CNAME': return content.trim() === '' ? null : canonicalName(content);
    default: return content;
  }
}

/** Sorted, de-duplicated canonical contents: two sets are equal when these arrays are. */
export function canonicalContents(type: string, contents: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const content of contents) out.add(canonicalContent(type, content) ?? content);
  return [...out].sort();
}

/** The reverse-lookup name of an address: `4.3.2.1.in-addr.arpa.` or 32 nibbles under `ip6.arpa.`. */
export function reverseName(address: string): string | null {
  const v4 = canonicalIPv4(address);
  if (v4) return `${v4.split('.').reverse().join('.')}.in-addr.arpa.`;
  const groups = ipv6Groups(address);
  if (!groups) return null;
  const nibbles = groups.flatMap((g) => g.toString(16).padStart(4, '0').split(''));
  return `${nibbles.reverse().join('.')}.ip6.arpa.`;
}

/** True when `name` is the zone's apex or inside it (both canonical). */
export const isInZone = (name: string, zone: string): boolean => name === zone || name.endsWith(`.${zone}`);
