/** Retry policy of one queue, read from system settings when a job fails (src/jobs/policy.ts). */
export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0 to 1: a delay is shortened at random by up to this fraction, so failures do not retry in lockstep. */
  jitter: number;
}

/**
 * Delay before the retry that follows failed attempt number `attempt` (1-based): the initial delay doubled per
 * earlier failure, capped, then shortened by jitter. Shortening (never lengthening) keeps the cap a true maximum.
 * `random` is injectable so tests can pin the jitter.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  // 2 ** 1024 is Infinity; the cap turns it back into a number.
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(exponent, 1023));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(exponential * (1 - jitter * random()));
}

/** What becomes of a job whose attempt failed: retried later, or given up. */
export type FailureDecision =
  | { kind: 'retry'; delayMs: number }
  | { kind: 'dead' }
  | { kind: 'failed' };

/**
 * A failed attempt is retried while attempts remain; a permanent error (the handler says retrying cannot help)
 * ends the job as `failed`; running out of attempts ends it as `dead`.
 */
export function decideFailure(attempt: number, maxAttempts: number, permanent: boolean, policy: RetryPolicy,
  random: () => number = Math.random): FailureDecision {
  if (permanent) return { kind: 'failed' };
  if (attempt >= maxAttempts) return { kind: 'dead' };
  return { kind: 'retry', delayMs: retryDelayMs(attempt, policy, random) };
}
