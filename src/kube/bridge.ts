import { NotificationListener } from '../db/listener.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import { syncResource, syncVanished, type BridgedKind } from './bridged-kind.ts';
import type { KubeClient } from './client.ts';
import type { BridgeDeps, OrderServices } from './deps.ts';
import { cloudPodDnsRecords } from './dns-bridge.ts';
import type { EventRecorder } from './events.ts';
import { cloudPodHooks } from './hook-bridge.ts';
import { cloudPods } from './pod-bridge.ts';
import { backoffDelayMs, runReflector, type ReflectorOptions } from './reflector.ts';
import type { KubeResource } from './resource.ts';
import { groupPath } from './resource-writes.ts';
import { NamespaceTenants, type Namespace } from './tenancy.ts';
import { cloudPodVolumes } from './volume-bridge.ts';

/** Rows of kube-managed objects notify this channel with the resource's uid when they change (migration 0010). */
export const kubeStatusChannel = 'cloudpods_kube_status';

export interface BridgeOptions {
  client: KubeClient;
  orders: OrderServices;
  events: EventRecorder;
  logger: Logger;
  /** For the row-change notifications; without it status follows the rows at each resync only. */
  databaseUrl?: string;
  /** How often every known resource is synced again: refused orders retried, missed notifications caught up. */
  resyncMs: number;
  inactivityMs?: number;
  onRestart?: ReflectorOptions<unknown>['onRestart'];
}

/** The sync queue and resource cache of one kind. */
interface KindRunner {
  kind: string;
  plural: string;
  has(uid: string): boolean;
  uids(): string[];
  /** The cached resources in `namespace`; with `podName`, only those that name that CloudPod. */
  uidsIn(namespace: string, podName?: string): string[];
  nameOf(uid: string): { namespace: string; name: string } | undefined;
  sync(uid: string): void;
  reflect: Pick<ReflectorOptions<KubeResource<unknown>>, 'onList' | 'onEvent'>;
  running: Map<string, Promise<void>>;
}

/**
 * The Kubernetes front door while this replica leads: a list+watch per kind into a cache of resources, and one
 * sync per resource at a time (a request arriving meanwhile runs once more after it, like a workqueue key).
 * A resource is synced when it changes in Kubernetes, when its row changes (a notification), when its namespace
 * is relabelled, when the CloudPod it names changes, and every `resyncMs`.
 */
export async function runBridge(options: BridgeOptions, signal: AbortSignal): Promise<void> {
  const log = componentLogger(options.logger, 'kube-bridge');
  const namespaces = new NamespaceTenants(options.client, options.orders.db);
  const deps: BridgeDeps = { db: options.orders.db, orders: options.orders, client: options.client,
    events: options.events, logger: log, tenantOf: (namespace) => namespaces.tenantOf(namespace) };
  const runners = [kindRunner(cloudPods, deps, signal), kindRunner(cloudPodVolumes, deps, signal),
    kindRunner(cloudPodDnsRecords, deps, signal), kindRunner(cloudPodHooks, deps, signal)];
  const syncAll = () => { for (const runner of runners) for (const uid of runner.uids()) runner.sync(uid); };
  const syncNamespace = (namespace: string) => {
    for (const runner of runners) for (const uid of runner.uidsIn(namespace)) runner.sync(uid);
  };
  /** A row changed: its resource, and the volumes and DNS records that name it when it is a CloudPod's. */
  const syncRowOwner = (uid: string) => {
    for (const runner of runners) {
      if (!runner.has(uid)) continue;
      runner.sync(uid);
      const pod = runner.kind === cloudPods.kind ? runner.nameOf(uid) : undefined;
      if (!pod) continue;
      for (const other of runners) for (const dependent of other.uidsIn(pod.namespace, pod.name)) other.sync(dependent);
    }
  };

  const listener = options.databaseUrl ? new NotificationListener({
    url: options.databaseUrl, channels: [kubeStatusChannel], logger: log,
    onNotification: (_channel, uid) => syncRowOwner(uid),
    onConnected: syncAll, // anything may have changed while it was away
  }) : null;
  listener?.start().catch(() => {}); // it retries by itself; resyncs cover the gap
  const reflect = <T>(path: string, handlers: Pick<ReflectorOptions<T>, 'onList' | 'onEvent'>) => runReflector<T>({
    client: deps.client, logger: log, path, ...handlers,
    ...(options.inactivityMs ? { inactivityMs: options.inactivityMs } : {}),
    ...(options.onRestart ? { onRestart: options.onRestart } : {}),
  }, signal);

  const resync = setInterval(syncAll, options.resyncMs);
  try {
    await Promise.all([
      reflect<Namespace>('/api/v1/namespaces', {
        onList: async (items) => { for (const name of namespaces.replace(items)) syncNamespace(name); },
        onEvent: async (type, object) => { if (namespaces.apply(type, object)) syncNamespace(object.metadata.name); },
      }),
      ...runners.map((runner) => reflect(`${groupPath}/${runner.plural}`, runner.reflect)),
    ]);
  } finally {
    clearInterval(resync);
    await listener?.stop();
    await Promise.allSettled(runners.flatMap((runner) => [...runner.running.values()]));
  }
}

function kindRunner<Spec, Row>(kind: BridgedKind<Spec, Row>, deps: BridgeDeps, signal: AbortSignal): KindRunner {
  const cache = new Map<string, KubeResource<Spec>>();
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  /** Failed syncs in a row per resource, and the timer of its retry (a rate-limited requeue, as in client-go). */
  const failures = new Map<string, number>();
  const retries = new Map<string, NodeJS.Timeout>();
  signal.addEventListener('abort', () => { for (const timer of retries.values()) clearTimeout(timer); }, { once: true });

  function retryLater(uid: string): void {
    const failed = (failures.get(uid) ?? 0) + 1;
    failures.set(uid, failed);
    clearTimeout(retries.get(uid));
    const timer = setTimeout(() => { retries.delete(uid); sync(uid); }, backoffDelayMs(failed));
    timer.unref();
    retries.set(uid, timer);
  }

  function sync(uid: string): void {
    if (running.has(uid)) { again.add(uid); return; }
    const work = (async () => {
      do {
        again.delete(uid);
        const resource = cache.get(uid);
        if (!resource || signal.aborted) return;
        try {
          await syncResource(deps, kind, resource);
          failures.delete(uid);
        } catch (error) {
          retryLater(uid);
          deps.logger.warn({ err: error, kind: kind.plural, resource: `${resource.metadata.namespace}/${resource.metadata.name}`,
            failures: failures.get(uid) }, 'sync failed; retrying with backoff');
        }
      } while (again.has(uid));
    })().finally(() => running.delete(uid));
    running.set(uid, work);
  }

  const vanished = (resource: KubeResource<Spec>) => syncVanished(deps, kind, resource)
    .catch((error) => deps.logger.warn({ err: error, kind: kind.plural }, 'cleanup of a vanished resource failed'));
  const cached = (resource: KubeResource<unknown>) => resource as KubeResource<Spec>; // the CRD's schema admitted it

  return {
    kind: kind.kind, plural: kind.plural, sync, running,
    has: (uid) => cache.has(uid),
    uids: () => [...cache.keys()],
    uidsIn: (namespace, podName) => [...cache].filter(([, r]) => r.metadata.namespace === namespace
      && (podName === undefined || kind.podNameOf?.(r.spec) === podName)).map(([uid]) => uid),
    nameOf(uid) {
      const resource = cache.get(uid);
      return resource && { namespace: resource.metadata.namespace, name: resource.metadata.name };
    },
    reflect: {
      async onList(items) {
        const seen = new Set(items.map((item) => item.metadata.uid));
        for (const [uid, resource] of cache) {
          if (!seen.has(uid)) { cache.delete(uid); await vanished(resource); }
        }
        for (const item of items) { cache.set(item.metadata.uid, cached(item)); sync(item.metadata.uid); }
      },
      async onEvent(type, object) {
        if (type === 'DELETED') {
          cache.delete(object.metadata.uid);
          await vanished(cached(object));
          return;
        }
        cache.set(object.metadata.uid, cached(object));
        sync(object.metadata.uid);
      },
    },
  };
}
