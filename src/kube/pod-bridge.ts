import { changePod, createPod, deletePod } from '../pods/orders.ts';
import { findPodOfResource, type Pod } from '../pods/store.ts';
import { objectRow, type BridgedKind } from './bridged-kind.ts';
import { changeOf, orderOf, statusOf, type CloudPodSpec } from './pod-mapping.ts';

/**
 * CloudPod: a kube-managed cloud_pods row of the namespace's tenant, created, changed and deleted through
 * src/pods/orders.ts; the pod controller does the rest and the row's status comes back.
 */
export const cloudPods: BridgedKind<CloudPodSpec, Pod> = {
  kind: 'CloudPod',
  plural: 'cloudpods',
  ...objectRow,
  find: ({ db }, resource) => findPodOfResource(db, resource.metadata.uid),

  async create({ orders }, scope, resource, tenant) {
    const pod = await createPod(orders, scope, orderOf(tenant.id, resource.metadata.name, resource.spec));
    return { row: pod, note: `pod ${pod.id} ordered for tenant ${tenant.slug}` };
  },

  async change({ orders }, scope, resource, pod) {
    const change = changeOf(pod, resource.spec);
    if (Object.keys(change).length === 0 || pod.deletion_requested_at) return { row: pod, note: null };
    return { row: await changePod(orders, scope, pod.id, change), note: `changed ${Object.keys(change).join(', ')}` };
  },

  delete: ({ orders }, scope, pod) => deletePod(orders, scope, pod.id),
  status: (pod, resource) => statusOf(pod, resource),
  notes: {
    deleting: (pod) => `tearing down VM ${pod.vmid ?? '(none yet)'}`,
    deleted: () => 'the VM and everything of the pod are gone',
  },
};
