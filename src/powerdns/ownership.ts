import type { PdnsComment, PdnsRRset } from './types.ts';

/**
 * The ownership marker: an RRset comment (invisible in DNS) with account `cloudpods` naming this installation.
 * An RRset without it is not ours, whoever created it: PowerDNS-Admin rewrites comments with account "" when a
 * person saves the RRset, so a missing marker also means "touched by hand" and we keep our hands off.
 */
export const markerAccount = 'cloudpods';

export const ownerMarker = (ownerId: string): PdnsComment =>
  ({ account: markerAccount, content: `cloudpods:v1 owner=${ownerId}` });

export function isOwnedBy(rrset: PdnsRRset, ownerId: string): boolean {
  const { content } = ownerMarker(ownerId);
  return rrset.comments.some((c) => c.account === markerAccount && c.content === content);
}
