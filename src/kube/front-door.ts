import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import { runBridge } from './bridge.ts';
import { KubeClient } from './client.ts';
import type { OrderServices } from './deps.ts';
import { createEventRecorder } from './events.ts';
import { LeaderElector } from './lease.ts';

const serviceAccount = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where the front door finds a cluster: the configured kubeconfig, else the in-cluster service account, else none. */
export function kubeTarget(config: Config['kube'], env: NodeJS.ProcessEnv = process.env)
  : { kubeconfigPath?: string; namespace: string } | null {
  if (!config.enabled) return null;
  if (config.kubeconfig) return { kubeconfigPath: config.kubeconfig, namespace: config.leaseNamespace ?? 'default' };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(`${serviceAccount}/token`)) {
    const own = existsSync(`${serviceAccount}/namespace`) ? readFileSync(`${serviceAccount}/namespace`, 'utf8').trim() : 'default';
    return { namespace: config.leaseNamespace ?? own };
  }
  return null;
}

export interface KubeFrontDoor {
  elector: LeaderElector;
  stop(): Promise<void>;
}

/**
 * Starts the front door of one replica: it competes for the Lease, and only the leader runs the bridge. Every
 * replica keeps serving the API and working the queues whatever the outcome.
 */
export function startKubeFrontDoor(config: Config['kube'], orders: OrderServices, databaseUrl: string, logger: Logger)
  : KubeFrontDoor | null {
  const target = kubeTarget(config);
  if (!target) return null;
  const log = componentLogger(logger, 'kube');
  const client = new KubeClient(target.kubeconfigPath ? { kubeconfigPath: target.kubeconfigPath } : {});
  const identity = `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const events = createEventRecorder(client, identity, log);
  const elector = new LeaderElector({
    client, namespace: target.namespace, name: config.leaseName, identity, logger: log,
    leaseDurationMs: config.leaseDurationSeconds * 1000, renewDeadlineMs: config.renewDeadlineSeconds * 1000,
    retryPeriodMs: config.retryPeriodMs,
    onLeading: (signal) => runBridge({ client, orders, events, logger: log, databaseUrl, resyncMs: config.resyncIntervalMs,
      inactivityMs: config.watchInactivitySeconds * 1000 }, signal),
  });
  elector.start();
  log.info({ event: true, lease: `${target.namespace}/${config.leaseName}`, identity }, 'Kubernetes front door started');
  return { elector, stop: () => elector.stop() };
}
