import { isDeepStrictEqual } from 'node:util';
import { KubeApiError, type KubeClient } from './client.ts';
import { kinds } from './crds/index.ts';
import { finalizerName, group, version } from './crds/schema.ts';
import type { KubeObject, ResourceStatus } from './resource.ts';

/** Writes the bridge makes to our resources: finalizers and the status subresource. */

export const groupPath = `/apis/${group}/${version}`;

export function objectPath(resource: KubeObject): string {
  const plural = kinds.find((k) => k.kind === resource.kind)?.plural;
  if (!plural) throw new Error(`not one of our kinds: ${resource.kind}`);
  return `${groupPath}/namespaces/${resource.metadata.namespace}/${plural}/${resource.metadata.name}`;
}

/** Whether a status write would change anything (status is written only when it changed). */
export const statusDiffers = (current: unknown, next: unknown): boolean =>
  !isDeepStrictEqual(JSON.parse(JSON.stringify(current ?? {})), JSON.parse(JSON.stringify(next)));

/** Merge patch keeps fields it does not name: fields no longer in the status are sent as null to remove them. */
function removed(previous: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, null> {
  return Object.fromEntries(Object.keys(previous ?? {}).filter((k) => !(k in next)).map((k) => [k, null]));
}

/**
 * Writes the status subresource with a merge patch, only when it differs, with the resourceVersion as a
 * precondition. A 409 (someone wrote in between) is retried against a fresh read; merge patch replaces arrays, so
 * conditions always go whole. Returns the resource as written (or as it was, when nothing changed).
 */
export async function writeStatus<R extends KubeObject>(client: KubeClient, resource: R,
  next: (fresh: R) => ResourceStatus | null): Promise<R> {
  let current = resource;
  for (let attempt = 1; ; attempt++) {
    const status = next(current);
    if (!status || !statusDiffers(current.status, status)) return current;
    try {
      return await client.request('PATCH', `${objectPath(current)}/status`, { metadata: {
        resourceVersion: current.metadata.resourceVersion }, status: { ...status, ...removed(current.status, status) } }, 'merge');
    } catch (error) {
      if (!(error instanceof KubeApiError) || error.status !== 409 || attempt >= 5) throw error;
      current = await client.request('GET', objectPath(current));
    }
  }
}

async function setFinalizers(client: KubeClient, resource: KubeObject, finalizers: string[]): Promise<void> {
  try {
    await client.request('PATCH', objectPath(resource), { metadata: {
      resourceVersion: resource.metadata.resourceVersion, finalizers: finalizers.length ? finalizers : null } }, 'merge');
  } catch (error) {
    // A stale copy (409) or a resource already gone (404): the next event carries the current state.
    if (error instanceof KubeApiError && (error.status === 409 || error.status === 404)) return;
    throw error;
  }
}

/** Adds our finalizer on first sight; true when it was missing (the MODIFIED event brings the resource back). */
export async function ensureFinalizer(client: KubeClient, resource: KubeObject): Promise<boolean> {
  const finalizers = resource.metadata.finalizers ?? [];
  if (resource.metadata.deletionTimestamp || finalizers.includes(finalizerName)) return false;
  await setFinalizers(client, resource, [...finalizers, finalizerName]);
  return true;
}

export const holdsFinalizer = (resource: KubeObject): boolean =>
  (resource.metadata.finalizers ?? []).includes(finalizerName);

/** Removes our finalizer: only once teardown is done, as the resource then disappears. */
export function removeFinalizer(client: KubeClient, resource: KubeObject): Promise<void> {
  return setFinalizers(client, resource, (resource.metadata.finalizers ?? []).filter((f) => f !== finalizerName));
}
