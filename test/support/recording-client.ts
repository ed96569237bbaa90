/** One call a controller made on a client: the method and its arguments, as a line that reads in a diff. */
export type RecordedCall = string;

export interface Recording<T> {
  client: T;
  calls: RecordedCall[];
  /** The calls since the last take, and forgets them. */
  take(): RecordedCall[];
}

/**
 * A client (Proxmox, PowerDNS) that records every call made on it (and only those: the client's own internal calls
 * are not counted) and passes it to the real one, so a scenario can assert the exact calls a controller made, the
 * way cert-manager asserts its expected actions.
 */
export function recordingClient<T extends object>(client: T): Recording<T> {
  const calls: RecordedCall[] = [];
  const recorded = new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls.push(`${property}(${args.filter((a) => a !== undefined).map(describe).join(', ')})`);
        return value.apply(target, args);
      };
    },
  });
  return { client: recorded, calls, take: () => calls.splice(0) };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.startsWith('UPID:') ? 'UPID' : value;
  return JSON.stringify(value);
}
