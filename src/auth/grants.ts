import type { Permission } from './permissions.ts';

/** What a token holds: the powers another token must hold too to issue, see or revoke it. */
export interface TokenPowers {
  permissions: Iterable<Permission>;
  isAdmin: boolean;
}

/**
 * What `holder` lacks of `wanted`: its missing permissions, and `admin` when `wanted` has admin scope and the
 * holder has not. Empty when the holder covers it.
 */
export function powersLacking(holder: TokenPowers, wanted: TokenPowers): string[] {
  const held = new Set(holder.permissions);
  const lacking: string[] = [...new Set(wanted.permissions)].filter((p) => !held.has(p)).sort();
  if (wanted.isAdmin && !holder.isAdmin) lacking.push('admin');
  return lacking;
}

/**
 * When a token issued by a token expiring at `issuerExpiresAt` expires: as asked, or, asked for no expiry, with
 * its issuer. Undefined when the request outlives the issuer, which a token cannot grant (a short-lived token
 * could otherwise mint itself a permanent successor).
 */
export function issuedExpiry(issuerExpiresAt: Date | null, requested: Date | null): Date | null | undefined {
  if (issuerExpiresAt === null) return requested;
  if (requested === null) return issuerExpiresAt;
  return requested <= issuerExpiresAt ? requested : undefined;
}
