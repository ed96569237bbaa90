import { defineKind } from '../runtime/kind.ts';

/**
 * DNS records are reconciled on a queue of their own, so pods never wait behind them; orders, the pod records and
 * the health check enqueue them through this handle, in the transaction of their change.
 */
export const dnsRecordKind = defineKind('dns-record', 'dns');
