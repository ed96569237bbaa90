import type { Condition } from '../db/schema.ts';

/** Our resources as the bridge reads and writes them (objects of src/kube/crds, as the apiserver serves them). */

export interface ResourceMetadata {
  uid: string;
  name: string;
  namespace: string;
  generation?: number;
  resourceVersion?: string;
  finalizers?: string[];
  deletionTimestamp?: string;
  labels?: Record<string, string>;
}

/** The status subresource every kind writes: phase, observed generation and conditions, plus its own fields. */
export interface ResourceStatus {
  phase?: string;
  observedGeneration?: number;
  conditions?: Condition[];
  [field: string]: unknown;
}

/** Any object the bridge writes to or records an event about. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ResourceMetadata;
  status?: ResourceStatus;
}

/** A resource of one of our kinds, with that kind's spec. */
export interface KubeResource<Spec> extends KubeObject {
  spec: Spec;
}
