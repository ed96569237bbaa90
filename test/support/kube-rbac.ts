import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { ServiceAccountRbac } from './kube-apiserver/rbac.ts';

/**
 * The bridge's service account with exactly the rights the Helm chart grants it (helm/cloudpods/files/bridge-rbac.yaml):
 * tests run the bridge under it, so a call the chart does not allow fails the tests, not a deployment.
 */
export function bridgeServiceAccount(leaseNamespace = 'default'): ServiceAccountRbac {
  const rules = parse(readFileSync(path.join(import.meta.dirname, '../../helm/cloudpods/files/bridge-rbac.yaml'), 'utf8'));
  return { token: 'cloudpods-bridge', user: 'system:serviceaccount:cloudpods:cloudpods', clusterRules: rules.clusterRules,
    namespaceRules: { [leaseNamespace]: rules.leaseRules } };
}
