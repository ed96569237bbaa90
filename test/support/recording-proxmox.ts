import type { ProxmoxClient } from '../../src/proxmox/client.ts';

/** One call a controller made on the Proxmox client: the method and its arguments, as a line that reads in a diff. */
export type RecordedCall = string;

/**
 * A Proxmox client that records every call made on it (and only those: the client's own internal calls are not
 * counted) and passes it to the real client, so a scenario can assert the exact calls a controller made, the way
 * cert-manager asserts its expected actions.
 */
export function recordingProxmox(client: ProxmoxClient): { client: ProxmoxClient; calls: RecordedCall[]; take(): RecordedCall[] } {
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
