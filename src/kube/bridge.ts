import { NotificationListener } from '../db/listener.ts';
import { deleteHook } from '../hooks/orders.ts';
import { findHookOfResource } from '../hooks/store.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import { deletePod } from '../pods/orders.ts';
import type { KubeClient } from './client.ts';
import { actor, doorOf, type BridgeDeps, type OrderServices } from './deps.ts';
import { orphanedDnsRecord, syncCloudPodDnsRecord } from './dns-bridge.ts';
import type { EventRecorder } from './events.ts';
import { syncCloudPodHook } from './hook-bridge.ts';
import { syncCloudPod } from './pod-bridge.ts';
import { backoffDelayMs, runReflector, type ReflectorOptions } from './reflector.ts';
import { groupPath, holdsFinalizer } from './resource-writes.ts';
import { refuse } from './status-report.ts';
import { NamespaceTenants, tenantMoved } from './tenancy.ts';
import { orphanedVolume, syncCloudPodVolume } from './volume-bridge.ts';

/** One kind the bridge serves: how to sync a resource and what to do when one vanished without teardown. */
interface KindBridge {
  plural: string;
  /** The table of its rows (each with tenant_id and kube_uid). */
  table: 'cloud_pods' | 'cloud_pod_volumes' | 'cloud_pod_dns_records' | 'cloud_pod_hooks';
  sync(deps: BridgeDeps, resource: any): Promise<void>;
  orphaned(deps: BridgeDeps, resource: any): Promise<void>;
}

const bridgedKinds: KindBridge[] = [
  { plural: 'cloudpods', table: 'cloud_pods', sync: syncCloudPod, orphaned: orphanedPod },
  { plural: 'cloudpodvolumes', table: 'cloud_pod_volumes', sync: syncCloudPodVolume, orphaned: orphanedVolume },
  { plural: 'cloudpoddnsrecords', table: 'cloud_pod_dns_records', sync: syncCloudPodDnsRecord, orphaned: orphanedDnsRecord },
  { plural: 'cloudpodhooks', table: 'cloud_pod_hooks', sync: syncCloudPodHook, orphaned: orphanedHook },
];

/** Rows of kube-managed objects notify this channel with the resource's uid when they change (migration 0010). */
export const kubeStatusChannel = 'cloudpods_kube_status';

/** A CloudPod gone from Kubernetes without our finalizer's teardown (forced removal): its pod is deleted too. */
async function orphanedPod({ orders }: BridgeDeps, resource: any): Promise<void> {
  const row = await orders.db.selectFrom('cloud_pods').select(['id', 'deletion_requested_at'])
    .where('kube_uid', '=', resource.metadata.uid).executeTakeFirst();
  if (row && !row.deletion_requested_at) {
    await deletePod(orders, row.id, null, actor, undefined, doorOf(resource));
  }
}

/** A CloudPodHook gone without our finalizer's teardown: its hook goes too, audited like any deletion. */
async function orphanedHook({ db }: BridgeDeps, resource: any): Promise<void> {
  const hook = await findHookOfResource(db, resource.metadata.uid);
  if (hook) await deleteHook(db, { tenantId: hook.tenant_id, actor }, hook.id, doorOf(resource));
}

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
  onRestart?: ReflectorOptions['onRestart'];
}

/** The sync queue and resource cache of one kind. */
interface KindRunner {
  kind: KindBridge;
  cache: Map<string, any>;
  sync(uid: string): void;
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
  const deps: BridgeDeps = { db: options.orders.db, orders: options.orders, client: options.client, events: options.events,
    logger: log, tenantOf: (namespace) => namespaces.tenantOf(namespace) };
  const runners = bridgedKinds.map((kind) => kindRunner(kind, deps, signal));
  const syncAll = () => { for (const runner of runners) for (const uid of runner.cache.keys()) runner.sync(uid); };
  const syncNamespace = (namespace: string) => {
    for (const runner of runners) {
      for (const [uid, resource] of runner.cache) if (resource.metadata.namespace === namespace) runner.sync(uid);
    }
  };
  /** A row changed: its resource, and the volumes and DNS records that name it when it is a CloudPod's. */
  const syncRowOwner = (uid: string) => {
    for (const runner of runners) {
      const resource = runner.cache.get(uid);
      if (!resource) continue;
      runner.sync(uid);
      if (runner.kind.plural !== 'cloudpods') continue;
      for (const other of runners) {
        for (const [dependent, r] of other.cache) {
          if (r.metadata.namespace === resource.metadata.namespace && r.spec?.podName === resource.metadata.name) other.sync(dependent);
        }
      }
    }
  };

  const listener = options.databaseUrl ? new NotificationListener({
    url: options.databaseUrl, channels: [kubeStatusChannel], logger: log,
    onNotification: (_channel, uid) => syncRowOwner(uid),
    onConnected: syncAll, // anything may have changed while it was away
  }) : null;
  listener?.start().catch(() => {}); // it retries by itself; resyncs cover the gap
  const reflect = (path: string, onList: ReflectorOptions['onList'], onEvent: ReflectorOptions['onEvent']) => runReflector({
    client: deps.client, logger: log, path, onList, onEvent,
    ...(options.inactivityMs ? { inactivityMs: options.inactivityMs } : {}),
    ...(options.onRestart ? { onRestart: options.onRestart } : {}),
  }, signal);

  const resync = setInterval(syncAll, options.resyncMs);
  try {
    await Promise.all([
      reflect('/api/v1/namespaces',
        async (items) => { for (const name of namespaces.replace(items)) syncNamespace(name); },
        async (type, object) => { if (namespaces.apply(type, object)) syncNamespace(object.metadata.name); }),
      ...runners.map((runner) => {
        const orphaned = (resource: any) => runner.kind.orphaned(deps, resource)
          .catch((error) => log.warn({ err: error, kind: runner.kind.plural }, 'cleanup of a vanished resource failed'));
        return reflect(`${groupPath}/${runner.kind.plural}`,
          async (items) => {
            const seen = new Set(items.map((item) => item.metadata.uid as string));
            for (const [uid, resource] of runner.cache) {
              if (!seen.has(uid)) { runner.cache.delete(uid); await orphaned(resource); }
            }
            for (const item of items) { runner.cache.set(item.metadata.uid, item); runner.sync(item.metadata.uid); }
          },
          async (type, object) => {
            if (type === 'DELETED') {
              runner.cache.delete(object.metadata.uid);
              await orphaned(object);
              return;
            }
            runner.cache.set(object.metadata.uid, object);
            runner.sync(object.metadata.uid);
          });
      }),
    ]);
  } finally {
    clearInterval(resync);
    await listener?.stop();
    await Promise.allSettled(runners.flatMap((runner) => [...runner.running.values()]));
  }
}

function kindRunner(kind: KindBridge, deps: BridgeDeps, signal: AbortSignal): KindRunner & { running: Map<string, Promise<void>> } {
  const cache = new Map<string, any>();
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
          await syncOne(kind, deps, resource);
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
  return { kind, cache, sync, running };
}

/** The kind's sync, unless the namespace now names another tenant than the row's: then only that is reported. */
async function syncOne(kind: KindBridge, deps: BridgeDeps, resource: any): Promise<void> {
  if (!resource.metadata.deletionTimestamp && holdsFinalizer(resource)) {
    const moved = await tenantMoved(deps.db, kind.table, resource, await deps.tenantOf(resource.metadata.namespace));
    if (moved) {
      await refuse(deps, resource, 'TenantChanged', moved, (fresh) => ({ ...fresh.status }));
      return;
    }
  }
  await kind.sync(deps, resource);
}
