import { defineKind } from '../runtime/kind.ts';

/** Pods are reconciled on the `cloudpods` queue; orders, bridges and controllers enqueue them through this handle. */
export const podKind = defineKind('pod');
