import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideFailure, retryDelayMs, type RetryPolicy } from '../src/jobs/backoff.ts';
import { CronSyntaxError, nextTick, parseCron } from '../src/jobs/cron.ts';
import { retryPolicyFor, retrySettingNames } from '../src/jobs/policy.ts';
import { mergeKeyedSpecs } from '../src/jobs/sql/enqueue.ts';
import { fakeSettings } from './support/jobs.ts';

const test = suite('job engine: pure rules');

const policy: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 10_000, jitter: 0.2 };

test('retry delays double from the initial delay, are capped, and jitter only shortens them', () => {
  const cases: Array<[attempt: number, random: number, expected: number]> = [
    [1, 0, 1000], // first retry: the initial delay
    [2, 0, 2000],
    [3, 0, 4000],
    [4, 0, 8000],
    [5, 0, 10_000], // 16 s capped at 10 s
    [60, 0, 10_000], // huge exponents stay capped
    [1, 1, 800], // full jitter takes 20 % off
    [5, 0.5, 9000], // jitter applies after the cap, so the cap stays a maximum
  ];
  for (const [attempt, random, expected] of cases) {
    assert.is(retryDelayMs(attempt, policy, () => random), expected, `attempt ${attempt}, random ${random}`);
  }
  assert.is(retryDelayMs(3, { ...policy, jitter: 0 }, () => 0.9), 4000, 'no jitter when the setting is 0');
});

test('a failed attempt retries while attempts remain, else the job is dead; permanent errors end it failed', () => {
  const none = () => 0;
  assert.equal(decideFailure(1, 3, false, policy, none), { kind: 'retry', delayMs: 1000 });
  assert.equal(decideFailure(2, 3, false, policy, none), { kind: 'retry', delayMs: 2000 });
  assert.equal(decideFailure(3, 3, false, policy, none), { kind: 'dead' });
  assert.equal(decideFailure(1, 3, true, policy, none), { kind: 'failed' });
});

test('webhooks take their retry policy from cloudpods.webhooks.*, other queues from jobs.*', async () => {
  assert.equal(retrySettingNames('webhooks'), { maxAttempts: 'cloudpods.webhooks.max_attempts',
    initialDelaySeconds: 'cloudpods.webhooks.initial_retry_delay_seconds' });
  assert.equal(retrySettingNames('cloudpods'), { maxAttempts: 'jobs.max_attempts',
    initialDelaySeconds: 'jobs.initial_retry_delay_seconds' });
  const settings = fakeSettings({ 'cloudpods.webhooks.max_attempts': 4, 'cloudpods.webhooks.initial_retry_delay_seconds': 30,
    'jobs.max_attempts': 9, 'jobs.initial_retry_delay_seconds': 3, 'jobs.max_retry_delay_seconds': 600,
    'jobs.retry_jitter_percent': 10 });
  assert.equal(await retryPolicyFor(settings, 'webhooks'),
    { maxAttempts: 4, initialDelayMs: 30_000, maxDelayMs: 600_000, jitter: 0.1 });
  assert.equal(await retryPolicyFor(settings, 'metrics'),
    { maxAttempts: 9, initialDelayMs: 3000, maxDelayMs: 600_000, jitter: 0.1 });
});

test('cron next ticks (UTC)', () => {
  const cases: Array<[expression: string, after: string, next: string]> = [
    ['* * * * *', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00.000Z'],
    ['* * * * *', '2026-01-01T00:00:59.999Z', '2026-01-01T00:01:00.000Z'],
    ['*/15 * * * *', '2026-01-01T10:07:00Z', '2026-01-01T10:15:00.000Z'],
    ['10 3 * * *', '2026-01-01T03:10:00Z', '2026-01-02T03:10:00.000Z'], // strictly after
    ['0 0 1 * *', '2026-01-31T12:00:00Z', '2026-02-01T00:00:00.000Z'],
    ['0 12 * * 1-5', '2026-01-02T13:00:00Z', '2026-01-05T12:00:00.000Z'], // Friday afternoon -> Monday
    ['0 0 * * 7', '2026-01-01T00:00:00Z', '2026-01-04T00:00:00.000Z'], // 7 is Sunday
    ['0 0 13 * 5', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00.000Z'], // day 13 OR Friday
    ['30 8-18/5 * * *', '2026-01-01T09:00:00Z', '2026-01-01T13:30:00.000Z'],
    ['0 0 29 2 *', '2026-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'], // leap day
    ['5,35 * * 12 *', '2026-11-30T23:59:00Z', '2026-12-01T00:05:00.000Z'],
  ];
  for (const [expression, after, next] of cases) {
    assert.is(nextTick({ cron: expression }, new Date(after)).toISOString(), next, `${expression} after ${after}`);
  }
});

test('interval ticks are aligned to the epoch, so replicas agree', () => {
  assert.is(nextTick({ everyMs: 60_000 }, new Date('2026-01-01T00:00:30Z')).toISOString(), '2026-01-01T00:01:00.000Z');
  assert.is(nextTick({ everyMs: 60_000 }, new Date('2026-01-01T00:01:00Z')).toISOString(), '2026-01-01T00:02:00.000Z');
  assert.is(nextTick({ everyMs: 1000 }, new Date(1500)).getTime(), 2000);
});

test('malformed cron expressions are rejected with the field named', () => {
  for (const [expression, message] of [['* * * *', /expected 5 fields/], ['60 * * * *', /minute: 60 is outside 0-59/],
    ['* 5-2 * * *', /hour: 5-2/], ['*/0 * * * *', /step must be 1 or more/], ['a * * * *', /minute: cannot read "a"/],
    ['0 0 31 2 *', /never matches/]] as const) {
    try {
      nextTick({ cron: expression }, new Date(0));
      assert.unreachable(expression);
    } catch (error) {
      assert.instance(error, CronSyntaxError);
      assert.match((error as Error).message, message);
    }
  }
  assert.ok(parseCron('0 3 * * *'));
});

test('bulk enqueue merges specs of one key like the database does: earliest time, highest priority, newest payload', () => {
  const base = { queue: 'cloudpods', type: 'pod.reconcile', maxAttempts: 5 };
  const merged = mergeKeyedSpecs([
    { ...base, key: 'pod:1', payload: { n: 1 }, priority: 1, runAt: new Date(5000) },
    { ...base, key: null, payload: { n: 2 } },
    { ...base, key: 'pod:1', payload: { n: 3 }, priority: 0, runAt: new Date(1000) },
    { ...base, key: 'pod:1', queue: 'health', payload: { n: 4 } },
    { ...base, key: null, payload: { n: 5 } },
  ]);
  assert.equal(merged.map((s) => [s.queue, s.key, s.payload, s.priority, s.runAt?.getTime()]), [
    ['cloudpods', 'pod:1', { n: 3 }, 1, 1000],
    ['cloudpods', null, { n: 2 }, undefined, undefined],
    ['health', 'pod:1', { n: 4 }, undefined, undefined],
    ['cloudpods', null, { n: 5 }, undefined, undefined],
  ]);
});

test.run();
