/** Reasons of a pod's `Healthy` condition (CamelCase, stable: clients, the Kubernetes status and alerts match on them). */
export const healthReasons = {
  /** True */
  healthy: 'Healthy',
  /** False: the VM is stopped though the pod is desired running (stopped by someone else). */
  vmStopped: 'VMStopped',
  /** False: the VM is paused (QMP status). */
  vmPaused: 'VMPaused',
  /** False: the pod's VM is not in the cluster. */
  vmNotFound: 'VMNotFound',
  /** False: the guest agent did not answer `guest-ping` within the timeout. */
  guestAgentUnresponsive: 'GuestAgentUnresponsive',
  /** False: the tenant's probe failed. */
  probeFailed: 'ProbeFailed',
  /** False: the VM's node is offline. */
  nodeOffline: 'NodeOffline',
  /** Unknown: the VM is locked (a backup, a migration): not a failure, not a success. */
  locked: 'Locked',
  /** Unknown: Proxmox did not answer the cycle's look at the cluster. */
  proxmoxUnavailable: 'ProxmoxUnavailable',
  /** Unknown: the pod is not checked now (being created, changed or deleted, a task in flight, desired stopped). */
  notChecked: 'NotChecked',
} as const;

export const healthyCondition = 'Healthy';
