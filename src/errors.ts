/**
 * Why an order was refused, as a word a machine can act on. It is set where the error is thrown, so no front door
 * reads it back from the message: the Kubernetes bridge shows it as the Ready reason of the resource.
 */
export type RefusalReason =
  // The spec as written: a field, the template, a name held by another object, a zone the tenant may not use.
  | 'SpecInvalid' | 'TemplateInvalid' | 'NameConflict' | 'ZoneNotAllowed'
  // A pod's probe (health_check) would target an address the hook address guard refuses.
  | 'ProbeTargetRefused'
  // What the order is about, or depends on.
  | 'PodNotFound' | 'PodDeleting' | 'PodHasNoAddress' | 'PodNotRunning' | 'VolumeNotFound' | 'VolumeDeleting'
  | 'RecordNotFound' | 'HookNotFound' | 'ManagedElsewhere' | 'InUse'
  // The tenant: unknown, suspended, over its quota, without the plan a template needs.
  | 'TenantUnknown' | 'TenantSuspended' | 'QuotaExceeded' | 'PlanRequired'
  // Names the Proxmox cluster does not have (src/proxmox/cluster-checks.ts).
  | 'NodeNotFound' | 'StorageNotFound' | 'StorageNotForDisks' | 'TemplateVmNotFound' | 'NotATemplate';

/**
 * An error the caller must see as it is: a stable code, a message and details, and for refused orders the machine
 * reason. Domain modules throw subclasses (a quota exceeded, a suspended tenant) that controllers recognise by class
 * and the API renders as its envelope.
 */
export class AppError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly reason: RefusalReason | undefined;
  constructor(status: AppError['status'], code: string, message: string, details?: Record<string, unknown>,
    reason?: RefusalReason) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = details;
    this.reason = reason;
  }
}
