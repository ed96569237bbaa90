/** Thrown by a probe when waiting longer cannot help (the process being waited on has exited). */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

/**
 * Polls a condition until it holds or the deadline passes, then fails naming what was awaited and the last value.
 * Tests wait on what the user would observe, never on a fixed sleep.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T> | T, accept: (value: T) => boolean,
  { timeoutMs = 15_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const seen = lastError ? `last error: ${(lastError as Error).message}` : `last value: ${JSON.stringify(last)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${seen}`);
}
