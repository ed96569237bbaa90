/** Condition types and reasons of DNS records (CamelCase, stable: clients and alerts match on them). */
export const conditionTypes = {
  ready: 'Ready',
  /** Present only on rows asking for a PTR record. */
  ptrReady: 'PtrReady',
} as const;

export const reasons = {
  served: 'Served',
  notServed: 'NotServed',
  conflict: 'Conflict',
  zoneNotFound: 'ZoneNotFound',
  rejected: 'Rejected',
  powerDnsUnavailable: 'PowerDnsUnavailable',
  deleting: 'Deleting',
} as const;
