/**
 * At most `limit` concurrent runs per key (a node, a storage), the rest waiting in arrival order. Proxmox takes
 * per-VM and per-storage lock files with short timeouts, so a burst of parallel work turns into lock timeouts
 * unless it is queued here first.
 */
export class KeyedLimiter {
  readonly #limit: number;
  readonly #slots = new Map<string, { active: number; waiting: Array<() => void> }>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number >= 1, got ${limit}`);
    this.#limit = limit;
  }

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    await this.#acquire(key);
    try {
      return await work();
    } finally {
      this.#release(key);
    }
  }

  /** Runs `work` holding a slot of every key at once, taken in sorted order so two callers cannot deadlock. */
  async runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const [first, ...rest] = [...new Set(keys)].sort();
    if (first === undefined) return work();
    return this.run(first, () => this.runAll(rest, work));
  }

  active(key: string): number {
    return this.#slots.get(key)?.active ?? 0;
  }

  #acquire(key: string): Promise<void> {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { active: 0, waiting: [] };
      this.#slots.set(key, slot);
    }
    if (slot.active < this.#limit) {
      slot.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => slot.waiting.push(resolve));
  }

  #release(key: string): void {
    const slot = this.#slots.get(key)!;
    const next = slot.waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else if (--slot.active === 0) this.#slots.delete(key);
  }
}
