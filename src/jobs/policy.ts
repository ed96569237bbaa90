import type { RetryPolicy } from './backoff.ts';

/** The settings a queue's retry policy reads (spec 1.4: webhooks have their own keys). */
export function retrySettingNames(queue: string): { maxAttempts: string; initialDelaySeconds: string } {
  return queue === 'webhooks'
    ? { maxAttempts: 'cloudpods.webhooks.max_attempts', initialDelaySeconds: 'cloudpods.webhooks.initial_retry_delay_seconds' }
    : { maxAttempts: 'jobs.max_attempts', initialDelaySeconds: 'jobs.initial_retry_delay_seconds' };
}

/** The part of SystemSettingsService the engine uses, so tests and the benchmark can pass a plain object. */
export interface NumberSettings {
  getNumber(name: string): Promise<number>;
}

export async function retryPolicyFor(settings: NumberSettings, queue: string): Promise<RetryPolicy> {
  const names = retrySettingNames(queue);
  const [maxAttempts, initialSeconds, maxSeconds, jitterPercent] = await Promise.all([
    settings.getNumber(names.maxAttempts),
    settings.getNumber(names.initialDelaySeconds),
    settings.getNumber('jobs.max_retry_delay_seconds'),
    settings.getNumber('jobs.retry_jitter_percent'),
  ]);
  return { maxAttempts, initialDelayMs: initialSeconds * 1000, maxDelayMs: maxSeconds * 1000, jitter: jitterPercent / 100 };
}
