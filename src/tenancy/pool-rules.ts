import { isIP } from 'node:net';
import { addressInCidr, addressToBigInt, parseCidr } from '../net/cidr.ts';

/** What a new pool's addresses must satisfy, apart from their syntax. */
export interface PoolAddresses {
  cidr: string;
  gateway: string;
  range_start: string;
  range_end: string;
  nameservers?: string[] | undefined;
}

/** A field of the request and what is wrong with it, as the API's validation_error names it. */
export interface PoolProblem {
  name: string;
  messages: string[];
}

/** The shortest prefix length a pool's network may have, per family (settings `cloudpods.ip_pools.largest_*`). */
export type LargestPrefixes = Record<4 | 6, number>;

/**
 * Pure: the problems of a new pool, by field. The network may be no larger than the settings allow (a 0.0.0.0/0
 * pool would hand out anyone's addresses); the gateway and the range lie inside it, the range in order, the
 * nameservers of its family.
 */
export function poolProblems(pool: PoolAddresses, largest: LargestPrefixes): PoolProblem[] {
  const network = parseCidr(pool.cidr);
  if (!network) return [{ name: 'cidr', messages: ['expected a network such as 192.0.2.0/24'] }];
  if (network.prefix < largest[network.family]) {
    return [{ name: 'cidr', messages: [`a pool may be at most a /${largest[network.family]} ` +
      `(setting cloudpods.ip_pools.largest_ipv${network.family}_prefix)`] }];
  }
  const problems: PoolProblem[] = (['gateway', 'range_start', 'range_end'] as const)
    .filter((field) => !addressInCidr(pool[field], network))
    .map((field) => ({ name: field, messages: [`must lie inside ${pool.cidr}`] }));
  pool.nameservers?.forEach((ns, i) => {
    if (isIP(ns) !== network.family) problems.push({ name: `nameservers[${i}]`, messages: [`expected an IPv${network.family} address`] });
  });
  if (problems.length === 0 && addressToBigInt(pool.range_start)! > addressToBigInt(pool.range_end)!) {
    problems.push({ name: 'range_end', messages: ['must not come before range_start'] });
  }
  return problems;
}
