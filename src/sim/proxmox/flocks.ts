import { TaskError } from './api-error.ts';
import { fileLockTimeout } from './messages.ts';

/**
 * PVE's per-VM lock files (`/var/lock/qemu-server/lock-<vmid>.conf`): flock, shared or exclusive, waited for up to
 * a timeout, then `can't lock file ... - got timeout`. A template clone holds the source's lock shared for the
 * whole clone, so parallel clones of a template work while a config change to it times out.
 */
export class VmFileLocks {
  readonly #held = new Map<number, { exclusive: boolean; count: number }>();

  isHeld(vmid: number): boolean {
    return this.#held.has(vmid);
  }

  /** Waits for the lock up to `timeoutMs`; resolves to its release function. */
  async acquire(vmid: number, mode: 'shared' | 'exclusive', timeoutMs: number): Promise<() => void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#tryAcquire(vmid, mode)) {
      if (Date.now() >= deadline) throw new TaskError(fileLockTimeout(vmid));
      await new Promise((resolve) => setTimeout(resolve, Math.min(10, Math.max(1, deadline - Date.now()))));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const entry = this.#held.get(vmid)!;
      entry.count -= 1;
      if (entry.count === 0) this.#held.delete(vmid);
    };
  }

  #tryAcquire(vmid: number, mode: 'shared' | 'exclusive'): boolean {
    const entry = this.#held.get(vmid);
    if (!entry) {
      this.#held.set(vmid, { exclusive: mode === 'exclusive', count: 1 });
      return true;
    }
    if (mode === 'shared' && !entry.exclusive) {
      entry.count += 1;
      return true;
    }
    return false;
  }
}
