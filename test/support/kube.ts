import { startKubeApiserver, type FakeKubeApiserver } from './kube-apiserver/index.ts';
import { bridgeServiceAccount } from './kube-rbac.ts';
import { startPlatform, type Platform } from './platform.ts';
import { startTestPowerDns, type TestPowerDns } from './powerdns.ts';
import { waitFor } from './wait.ts';

/** The platform (database, simulator, app) bridged to a fake kube-apiserver, with a namespace for its tenant. */
export interface KubePlatform {
  api: FakeKubeApiserver;
  platform: Platform;
  /** Labelled for the platform's tenant. */
  namespace: string;
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  /** With `powerDns`: the real PowerDNS the app serves DNS names with. */
  pdns?: TestPowerDns;
  stop(): Promise<void>;
}

export interface KubePlatformOptions {
  /** Start a real PowerDNS and configure the app with it (for CloudPodDNSRecord). */
  powerDns?: boolean;
}

/** The path of a collection of one of our kinds (by plural) in a namespace, or of one resource in it. */
export const kindPath = (plural: string, namespace: string, name = '') =>
  `/apis/cloudpods.mpanel.io/v1alpha1/namespaces/${namespace}/${plural}${name ? `/${name}` : ''}`;

export const podsPath = (namespace: string, name = '') => kindPath('cloudpods', namespace, name);

export async function startKubePlatform(config: Record<string, unknown> = {}, { powerDns = false }: KubePlatformOptions = {})
  : Promise<KubePlatform> {
  const pdns = powerDns ? await startTestPowerDns() : undefined;
  const api = await startKubeApiserver({ bookmarkIntervalMs: 200, serviceAccounts: [bridgeServiceAccount()] });
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const response = await fetch(`${api.url}${path}`, { method, headers: { 'content-type': contentType },
      body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: await response.json() as any };
  };
  const platform = await startPlatform({ config: { 'kube.kubeconfig': api.kubeconfigFor('cloudpods-bridge'), 'kube.leaseDurationSeconds': 2,
    'kube.renewDeadlineSeconds': 1, 'kube.retryPeriodMs': 200, 'kube.resyncIntervalMs': 200,
    'kube.watchInactivitySeconds': 2, ...pdns?.overrides, ...config } });
  const namespace = 'team-acme';
  await call('POST', '/api/v1/namespaces', { metadata: { name: namespace, labels: { 'cloudpods.mpanel.io/tenant': platform.tenant.slug } } });
  return {
    api, platform, namespace, call, ...(pdns ? { pdns } : {}),
    async stop() {
      await platform.stop();
      await api.stop();
      await pdns?.close();
    },
  };
}

export const cloudPod = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'cloudpods.mpanel.io/v1alpha1', kind: 'CloudPod', metadata: { name },
  spec: { template: 'ubuntu-24.04', cpuCores: 1, memoryMb: 1024, diskGb: 10, ...spec },
});

export const readyOf = (resource: any) => resource?.status?.conditions?.find((c: any) => c.type === 'Ready');

/** Applies a CloudPod (in the tenant's namespace unless told) and waits until it is Ready and active; returns the resource then. */
export async function anActiveCloudPod(k: KubePlatform, name: string, spec: Record<string, unknown> = {},
  namespace = k.namespace): Promise<any> {
  const created = await k.call('POST', podsPath(namespace), cloudPod(name, spec));
  if (created.status !== 201) throw new Error(`CloudPod ${name} not created: ${created.status} ${JSON.stringify(created.body)}`);
  return waitFor(`CloudPod ${name} Ready`, async () => (await k.call('GET', podsPath(namespace, name))).body,
    (r) => readyOf(r)?.status === 'True' && r.status.phase === 'active', { timeoutMs: 30_000, intervalMs: 100 });
}
