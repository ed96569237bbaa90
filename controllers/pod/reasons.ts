/** Reasons of a pod's conditions (CamelCase, stable: clients, the Kubernetes status and alerts match on them). */
export const reasons = {
  active: 'Active',
  stopped: 'Stopped',
  provisioning: 'Provisioning',
  cloning: 'Cloning',
  cloneQueued: 'CloneQueued',
  configuring: 'Configuring',
  starting: 'Starting',
  stopping: 'Stopping',
  rebooting: 'Rebooting',
  resizing: 'Resizing',
  deleting: 'Deleting',
  locked: 'Locked',
  waitingForAgent: 'WaitingForAgent',
  waitingForHooks: 'WaitingForHooks',
  tenantSuspended: 'TenantSuspended',
  noAddress: 'NoAddress',
  quotaExceeded: 'QuotaExceeded',
  taskFailed: 'TaskFailed',
  proxmoxUnavailable: 'ProxmoxUnavailable',
  /** A heal of the health controller's is in flight (resume, reset). */
  healing: 'Healing',
  /** Auto-heal reached its bound on this pod: `error` until the spec changes or an admin asks for a heal. */
  healGivenUp: 'HealGivenUp',
  /** Terminal: the template VM cannot be cloned. */
  templateInvalid: 'TemplateInvalid',
  /** A blocking hook was given up on: terminal before creation; before deletion the VM is kept. */
  hookFailed: 'HookFailed',
  /** NeedsReboot */
  pendingChanges: 'PendingChanges',
  applied: 'Applied',
  rebooted: 'Rebooted',
  provisioned: 'Provisioned',
  cleared: 'Cleared',
} as const;

/** The condition types a pod carries besides Ready. */
export const conditionTypes = {
  ready: 'Ready',
  provisioned: 'Provisioned',
  needsReboot: 'NeedsReboot',
  templateInvalid: 'TemplateInvalid',
  hookFailed: 'HookFailed',
} as const;
