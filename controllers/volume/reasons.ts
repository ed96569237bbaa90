/** Reasons of a volume's Ready condition (CamelCase, stable: clients and alerts match on them). */
export const reasons = {
  attached: 'Attached',
  detached: 'Detached',
  creating: 'Creating',
  attaching: 'Attaching',
  resizing: 'Resizing',
  deleting: 'Deleting',
  inProgress: 'InProgress',
  waitingForPod: 'WaitingForPod',
  waitingForVm: 'WaitingForVm',
  locked: 'Locked',
  proxmoxUnavailable: 'ProxmoxUnavailable',
  taskFailed: 'TaskFailed',
  /** Retried: room may be made. Shown as the `error` phase. */
  storageFull: 'StorageFull',
  /** Terminal: the spec cannot be met as written. */
  noFreeSlot: 'NoFreeSlot',
  volumeMissing: 'VolumeMissing',
  storageUnavailable: 'StorageUnavailable',
} as const;
