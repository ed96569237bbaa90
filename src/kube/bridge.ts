import type { Logger } from '../observability/logger.ts';
import { deletePod } from '../pods/orders.ts';
import type { KubeClient } from './client.ts';
import { actor, doorOf, type BridgeDeps, type OrderServices } from './deps.ts';
import { orphanedDnsRecord, syncCloudPodDnsRecord } from './dns-bridge.ts';
import type { EventRecorder } from './events.ts';
import { syncCloudPodHook } from './hook-bridge.ts';
import { syncCloudPod } from './pod-bridge.ts';
import { runReflector, type ReflectorOptions } from './reflector.ts';
import { groupPath } from './resource-writes.ts';
import { tenantOfNamespace } from './tenancy.ts';
import { orphanedVolume, syncCloudPodVolume } from './volume-bridge.ts';

/** One kind the bridge serves: how to sync a resource and what to do when one vanished without teardown. */
interface KindBridge {
  plural: string;
  sync(deps: BridgeDeps, resource: any): Promise<void>;
  orphaned(deps: BridgeDeps, resource: any): Promise<void>;
}

const bridgedKinds: KindBridge[] = [
  { plural: 'cloudpods', sync: syncCloudPod, orphaned: orphanedPod },
  { plural: 'cloudpodvolumes', sync: syncCloudPodVolume, orphaned: orphanedVolume },
  { plural: 'cloudpoddnsrecords', sync: syncCloudPodDnsRecord, orphaned: orphanedDnsRecord },
  { plural: 'cloudpodhooks', sync: syncCloudPodHook,
    orphaned: async (deps, resource) => { await deps.db.deleteFrom('cloud_pod_hooks').where('kube_uid', '=', resource.metadata.uid).execute(); } },
];

/** A CloudPod gone from Kubernetes without our finalizer's teardown (forced removal): its pod is deleted too. */
async function orphanedPod({ orders }: BridgeDeps, resource: any): Promise<void> {
  const row = await orders.db.selectFrom('cloud_pods').select(['id', 'deletion_requested_at'])
    .where('kube_uid', '=', resource.metadata.uid).executeTakeFirst();
  if (row && !row.deletion_requested_at) {
    await deletePod(orders, row.id, null, actor, undefined, doorOf(resource));
  }
}

export interface BridgeOptions {
  client: KubeClient;
  orders: OrderServices;
  events: EventRecorder;
  logger: Logger;
  /** How often every known resource is synced again: status write-back and refused orders retried. */
  resyncMs: number;
  inactivityMs?: number;
  onRestart?: ReflectorOptions['onRestart'];
}

/**
 * The Kubernetes front door while this replica leads: a list+watch per kind into a cache of resources, and one
 * sync per resource at a time (a request arriving meanwhile runs once more after it, like a workqueue key).
 * Every resource is synced again every `resyncMs`, which is how row status reaches the status subresource.
 */
export async function runBridge(options: BridgeOptions, signal: AbortSignal): Promise<void> {
  const log = options.logger.child({ component: 'kube-bridge' });
  const deps: BridgeDeps = { db: options.orders.db, orders: options.orders, client: options.client, events: options.events,
    logger: log, tenantOf: (namespace) => tenantOfNamespace(options.client, options.orders.db, namespace) };
  await Promise.all(bridgedKinds.map((kind) => runKind(kind, deps, options, signal)));
}

async function runKind(kind: KindBridge, deps: BridgeDeps, options: BridgeOptions, signal: AbortSignal): Promise<void> {
  const log = deps.logger;
  const cache = new Map<string, any>();
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();

  function sync(uid: string): void {
    if (running.has(uid)) { again.add(uid); return; }
    const work = (async () => {
      do {
        again.delete(uid);
        const resource = cache.get(uid);
        if (!resource || signal.aborted) return;
        try {
          await kind.sync(deps, resource);
        } catch (error) {
          log.warn({ err: error, kind: kind.plural, resource: `${resource.metadata.namespace}/${resource.metadata.name}` },
            'sync failed; retried at the next resync');
        }
      } while (again.has(uid));
    })().finally(() => running.delete(uid));
    running.set(uid, work);
  }

  const orphaned = (resource: any) => kind.orphaned(deps, resource)
    .catch((error) => log.warn({ err: error, kind: kind.plural }, 'cleanup of a vanished resource failed'));

  const reflector = runReflector({
    client: deps.client, logger: log, path: `${groupPath}/${kind.plural}`,
    ...(options.inactivityMs ? { inactivityMs: options.inactivityMs } : {}),
    ...(options.onRestart ? { onRestart: options.onRestart } : {}),
    async onList(items) {
      const seen = new Set(items.map((item) => item.metadata.uid as string));
      for (const [uid, resource] of cache) {
        if (!seen.has(uid)) { cache.delete(uid); await orphaned(resource); }
      }
      for (const item of items) { cache.set(item.metadata.uid, item); sync(item.metadata.uid); }
    },
    async onEvent(type, object) {
      if (type === 'DELETED') {
        cache.delete(object.metadata.uid);
        await orphaned(object);
        return;
      }
      cache.set(object.metadata.uid, object);
      sync(object.metadata.uid);
    },
  }, signal);

  const resync = setInterval(() => { for (const uid of cache.keys()) sync(uid); }, options.resyncMs);
  try {
    await reflector;
  } finally {
    clearInterval(resync);
    await Promise.allSettled([...running.values()]);
  }
}
