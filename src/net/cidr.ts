import { isIP } from 'node:net';

export interface Network {
  family: 4 | 6;
  /** The address as an unsigned integer, host bits cleared. */
  network: bigint;
  prefix: number;
}

/** An IPv4 or IPv6 address as an unsigned integer (IPv6 `::` shorthand and embedded IPv4 included). */
export function addressToBigInt(address: string): bigint | null {
  const family = isIP(address);
  if (family === 4) return address.split('.').reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
  if (family !== 6) return null;
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = addressToBigInt(v4[1]!)!;
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...tailGroups];
  return groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** Parses `192.0.2.0/24` or `2001:db8::/48`; host bits must be zero, as PostgreSQL's cidr type demands. */
export function parseCidr(text: string): Network | null {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return null;
  const family = isIP(match[1]!);
  if (family !== 4 && family !== 6) return null;
  const prefix = Number(match[2]);
  const width = family === 4 ? 32 : 128;
  if (prefix > width) return null;
  const value = addressToBigInt(match[1]!)!;
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  if ((value & hostMask) !== 0n) return null;
  return { family, network: value, prefix };
}

export function addressInCidr(address: string, cidr: Network): boolean {
  const family = isIP(address);
  if (family !== cidr.family) return false;
  const width = family === 4 ? 32 : 128;
  const value = addressToBigInt(address)!;
  return value >> BigInt(width - cidr.prefix) === cidr.network >> BigInt(width - cidr.prefix);
}
