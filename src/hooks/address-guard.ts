import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { addressInCidr, addressToBigInt, parseCidr, type Network } from '../net/cidr.ts';

/**
 * The SSRF guard of http hooks (ARCHITECTURE.md, Security): a tenant's URL may not reach this installation's
 * own networks, loopback, link-local (the 169.254.169.254 metadata service), multicast or reserved space, in any
 * spelling, unless the address lies in a network an admin lists in `cloudpods.webhooks.allowed_networks`.
 *
 * It is enforced where the connection is made: the request's `lookup` resolves the name once, checks every
 * address, and hands the socket only the permitted ones, so there is no second resolution a DNS rebinding could
 * answer differently. Literal IP hosts skip `lookup` in Node, so they are checked before the request.
 */

interface BlockedRange {
  network: Network;
  /** What the range is, for the refusal reason. */
  what: string;
  /** The range carries an IPv4 address in its last 32 bits that decides instead (mapped, compatible, NAT64). */
  embedsIpv4?: boolean;
}

const range = (cidr: string, what: string, embedsIpv4 = false): BlockedRange =>
  ({ network: parseCidr(cidr)!, what, embedsIpv4 });

/** Checked in order; the first match decides. */
const blockedRanges: readonly BlockedRange[] = [
  range('0.0.0.0/8', 'unspecified ("this network")'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'shared address space (CGNAT)'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local (cloud metadata)'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'IETF protocol assignments'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'benchmarking'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved (broadcast)'),
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('::ffff:0:0/96', 'IPv4-mapped', true),
  // SIIT's IPv4-translated form (RFC 2765) is no address of the public internet; only a translator inside the
  // installation's networks could carry it, so it is refused whatever IPv4 address it holds.
  range('::ffff:0:0:0/96', 'IPv4-translated'),
  range('::/96', 'IPv4-compatible', true),
  range('64:ff9b::/96', 'NAT64', true),
  // Local-use NAT64 (RFC 8215) goes through the operator's own translator, to whatever it maps: refused whole.
  range('64:ff9b:1::/48', 'local-use NAT64'),
  range('100::/64', 'discard-only'),
  range('2001::/32', 'Teredo'),
  range('2002::/16', '6to4'),
  range('fc00::/7', 'unique local (private)'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local'),
  range('ff00::/8', 'multicast'),
];

/** The IPv4 address in the last 32 bits of an IPv6 one. */
function embeddedIpv4(address: string): string {
  const n = Number(addressToBigInt(address)! & 0xffffffffn);
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

/** Parses the admin allow-list (the settings registry validates it; anything unparsable is ignored). */
export function parseAllowedNetworks(value: unknown): Network[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((text) => {
    const network = typeof text === 'string' ? parseCidr(text) : null;
    return network ? [network] : [];
  });
}

/**
 * Why a hook may not connect to `address` (an IP literal), or null when it may: outside every blocked range, or
 * inside an allowed network (an embedded IPv4 address counts as itself).
 */
export function refusalOf(address: string, allowed: readonly Network[]): string | null {
  if (!isIP(address)) return `${address} is not an IP address`;
  if (allowed.some((network) => addressInCidr(address, network))) return null;
  const blocked = blockedRanges.find((r) => addressInCidr(address, r.network));
  if (!blocked) return null;
  if (blocked.embedsIpv4) {
    const inner = embeddedIpv4(address);
    const innerRefusal = refusalOf(inner, allowed);
    return innerRefusal === null ? null : `${address} (${blocked.what} ${innerRefusal})`;
  }
  return `${address} (${blocked.what})`;
}

/** An address the guard refused; its message says which and how an admin may allow it. */
export class AddressRefusedError extends Error {
  override name = 'AddressRefusedError';
  readonly code = 'ERR_HOOK_ADDRESS_REFUSED';
}

const howToAllow = 'an admin may allow it in cloudpods.webhooks.allowed_networks';

/** A URL host that is an IP literal (brackets stripped), checked; null when the host is a name or allowed. */
export function refusalOfLiteralHost(hostname: string, allowed: readonly Network[]): string | null {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (!isIP(host)) return null;
  const refusal = refusalOf(host, allowed);
  return refusal === null ? null : `refused address ${refusal}; ${howToAllow}`;
}

/**
 * A `lookup` for http(s).request: resolves every address of the name once, keeps those the guard permits and
 * fails when none is left. `resolve` is injectable so tests can stand in for DNS.
 */
export function guardedLookup(allowed: readonly Network[],
  resolve: (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null,
    addresses: dns.LookupAddress[]) => void) => void = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      const refusals: string[] = [];
      const permitted = addresses.filter(({ address }) => {
        const refusal = refusalOf(address, allowed);
        if (refusal) refusals.push(refusal);
        return refusal === null;
      });
      if (permitted.length === 0) {
        callback(new AddressRefusedError(`${hostname} resolves only to refused addresses: ${refusals.join(', ')}; ${howToAllow}`), []);
        return;
      }
      if (options.all) callback(null, permitted);
      else callback(null, permitted[0]!.address, permitted[0]!.family);
    });
  };
}
