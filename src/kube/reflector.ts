import type { Logger } from '../observability/logger.ts';
import { KubeApiError, type KubeClient, type WatchEvent } from './client.ts';

/** client-go Reflector's backoff: 800 ms doubling to 30 s with full jitter, reset after 2 minutes of health. */
export function backoffDelayMs(failures: number, random = Math.random): number {
  const base = Math.min(30_000, 800 * 2 ** Math.max(0, failures - 1));
  return (base * (1 + random())) / 2;
}

/** Options of a reflector over a collection of `T` (the objects are as the apiserver serves them). */
export interface ReflectorOptions<T> {
  client: KubeClient;
  /** Collection path across namespaces, e.g. /apis/cloudpods.mpanel.io/v1alpha1/cloudpods. */
  path: string;
  logger: Logger;
  /** The whole current set after each (re)list; objects missing from it are gone. */
  onList(items: T[]): Promise<void>;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): Promise<void>;
  /** A watch with no event and no bookmark for this long is cut and re-opened (kopf: 70 s). */
  inactivityMs?: number;
  /** Server-side watch timeout, random in this range (client-go: 5–10 min). */
  watchTimeoutSeconds?: [number, number];
  /** Observes (re)lists and re-opened watches, for tests and metrics. */
  onRestart?(what: 'list' | 'watch', reason: string): void;
}

/**
 * List, then watch from the list's resourceVersion with bookmarks, for as long as `signal` lives. A watch that
 * ends is re-opened from the last resourceVersion seen (nothing is missed: the server replays from it); 410 Gone
 * (on the stream or as a status) means that history is gone, so it relists; other failures back off with jitter.
 */
export async function runReflector<T>(options: ReflectorOptions<T>, signal: AbortSignal): Promise<void> {
  const { client, path, logger, inactivityMs = 70_000, watchTimeoutSeconds = [300, 600] } = options;
  let failures = 0;
  let resourceVersion: string | null = null;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

  while (!signal.aborted) {
    try {
      if (resourceVersion === null) {
        options.onRestart?.('list', failures ? 'retry' : 'start');
        const list = await client.request('GET', path);
        resourceVersion = String(list.metadata.resourceVersion);
        await options.onList(list.items ?? []);
      }
      const [low, high] = watchTimeoutSeconds;
      const timeout = Math.floor(low + Math.random() * (high - low));
      let gone = false;
      let delivered = false;
      const openedAt = Date.now();
      await client.watch(`${path}?watch=true&allowWatchBookmarks=true&timeoutSeconds=${timeout}&resourceVersion=${resourceVersion}`,
        async (event: WatchEvent) => {
          if (event.type === 'ERROR') {
            if (event.object?.code === 410) gone = true;
            else throw new KubeApiError(event.object?.code ?? 500, event.object?.reason ?? 'Unknown', event.object?.message ?? 'watch error');
            return;
          }
          const rv = event.object?.metadata?.resourceVersion;
          if (event.type !== 'BOOKMARK') await options.onEvent(event.type, event.object);
          if (rv) resourceVersion = String(rv);
          delivered = true;
          failures = 0;
        }, { signal, inactivityMs });
      // A watch the server ends at once without a word is a failing server, not a timeout: back off, don't spin.
      if (!gone && !delivered && Date.now() - openedAt < 1000) throw new Error('the watch closed at once');
      if (gone) {
        logger.info({ path }, 'watch history expired (410): relisting');
        resourceVersion = null;
      }
      options.onRestart?.('watch', gone ? 'gone' : 'closed');
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof KubeApiError && error.status === 410) {
        resourceVersion = null;
        continue;
      }
      failures++;
      const delay = error instanceof KubeApiError && error.retryAfterMs ? error.retryAfterMs : backoffDelayMs(failures);
      logger.warn({ path, err: error, delayMs: Math.round(delay) }, 'list or watch failed; retrying');
      options.onRestart?.('watch', 'error');
      await sleep(delay);
    }
  }
}
