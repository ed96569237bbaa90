import { parseTags } from './encoding/tags.ts';

/**
 * How a VM is proven to be a pod's own before anything destructive happens: a tag set at configuration and a
 * description marker set by the clone itself (so even a VM whose configuration never ran is recognisable).
 */
export const managedTag = 'cloudpods';
export const ownerTag = (podId: string): string => `cloudpods-${podId}`;
export const ownerMarker = (podId: string): string => `managed-by=cloudpods pod=${podId}`;

export interface OwnershipEvidence {
  tags?: string | undefined;
  description?: string | undefined;
}

/** True when either mark names this pod; a VM with marks of another pod, or none, is never ours. */
export function ownedBy(podId: string, evidence: OwnershipEvidence): boolean {
  if (evidence.tags && parseTags(evidence.tags).includes(ownerTag(podId))) return true;
  return evidence.description !== undefined && evidence.description.includes(ownerMarker(podId));
}
