import { defineKind } from '../runtime/kind.ts';

/** Volumes are reconciled on the `cloudpods` queue; orders, bridges and controllers enqueue them through this handle. */
export const volumeKind = defineKind('volume');
