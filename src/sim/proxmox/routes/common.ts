import { TaskError } from '../api-error.ts';
import type { SimVm } from '../cluster.ts';
import { vmLocked } from '../messages.ts';
import type { RouteRequest } from '../router.ts';
import type { TaskContext } from '../tasks.ts';

export function requestedVm(request: RouteRequest): SimVm {
  return request.sim.cluster.requireVm(request.params.node!, Number(request.params.vmid));
}

/** PVE's check_lock: a `lock:` in the config refuses the operation unless `skiplock` (root only) is given. */
export function assertUnlocked(vm: SimVm, skiplock = false): void {
  if (vm.config.lock && !skiplock) throw new TaskError(vmLocked(vm.config.lock));
}

/** Runs `work` holding the VM's lock file, waiting for it as long as PVE would. */
export async function underVmLock<T>(request: RouteRequest, vmid: number, work: () => Promise<T> | T,
  { mode = 'exclusive', timeoutMs }: { mode?: 'shared' | 'exclusive'; timeoutMs?: number } = {}): Promise<T> {
  const release = await request.sim.locks.acquire(vmid, mode, timeoutMs ?? request.sim.durations.lockTimeoutMs);
  try {
    return await work();
  } finally {
    release();
  }
}

/** Forks a worker on the request's node and answers its UPID. */
export function startTask(request: RouteRequest, type: string, id: string | number,
  work: (task: TaskContext) => Promise<void>): string {
  return request.sim.tasks.start(request.params.node!, type, String(id), request.user, work);
}

export const vmPermissionPath = (request: RouteRequest) => `/vms/${request.params.vmid}`;
