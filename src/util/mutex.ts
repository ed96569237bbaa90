/** A FIFO lock: `run` calls wait for every earlier call to settle. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** One FIFO lock per key (a tenant, a zone), forgotten when nothing waits on it. */
export class KeyedMutex {
  readonly #locks = new Map<string, { mutex: Mutex; users: number }>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const entry = this.#locks.get(key) ?? { mutex: new Mutex(), users: 0 };
    entry.users++;
    this.#locks.set(key, entry);
    try {
      return await entry.mutex.run(work);
    } finally {
      if (--entry.users === 0) this.#locks.delete(key);
    }
  }
}
