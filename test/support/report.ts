/**
 * uvu discards an error thrown by a `before` hook (its runner returns from a `finally`), so a suite whose setup
 * failed reports "0 / N" with no reason. The shared starters print their own failure first.
 */
export async function reportFailure<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    process.stderr.write(`[test setup] ${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    throw error;
  }
}
