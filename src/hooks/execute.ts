import { isDeepStrictEqual } from 'node:util';
import { sql, type Kysely } from 'kysely';
import type { Database, HookRow } from '../db/schema.ts';
import type { JobEngine } from '../jobs/engine.ts';
import { ReportedJobError, type RunningJob } from '../jobs/types.ts';
import { componentLogger, type Logger } from '../observability/logger.ts';
import { setCondition, type ConditionUpdate } from '../runtime/conditions.ts';
import { parseAllowedNetworks } from './address-guard.ts';
import { hookConfigSchema, lastDeliveryCondition, type HookConfig } from './config.ts';
import { buildEnvelope, type Envelope } from './envelope.ts';
import { hookExecuteType, lifecycleQueue, type HookExecutePayload } from './events.ts';
import { deliverHttp, type DeliveryOutcome } from './http-delivery.ts';
import { followDeliveryJob, markSkipped, recordAttempt, type AttemptOutcome } from './ledger.ts';
import { runScript } from './script-runner.ts';
import { signatureHeaders } from './signing.ts';
import { workerComponent } from '../jobs/worker.ts';

/**
 * `hook.execute` (spec 9): one delivery of one lifecycle event to one hook, on the `webhooks` queue. It re-reads
 * the hook (gone, inactive or being deleted: nothing to do), delivers by type, and records the outcome in one
 * transaction: the hook's `LastDelivery` condition and the delivery's ledger row (ledger.ts). A failure throws, so
 * the job engine retries it with backoff up to `cloudpods.webhooks.max_attempts` (first delay
 * `cloudpods.webhooks.initial_retry_delay_seconds`); the last failure is logged as a warning (a system event), the
 * only one: the tenant's endpoint failing is no error of the platform's, so the engine does not report the dead job
 * again (ReportedJobError). Only a blocking hook's delivery (`blocking` in the payload) is waited on, by the pod
 * controller (gate.ts): when it ends (delivered, skipped, or given up) the pod's reconcile is enqueued in the
 * transaction that records the end, so the controller looks again at once and finds it.
 */

/**
 * A failed attempt, thrown for the engine's backoff. Reported here already (LastDelivery, the ledger, and the
 * warning when given up), so its dead job is no error on the health page.
 */
export class HookDeliveryError extends ReportedJobError {
  override name = 'HookDeliveryError';
}

/** The settings a delivery reads. */
export interface HookSettings {
  getNumber(name: string): Promise<number>;
  getJson<T = unknown>(name: string): Promise<T>;
}

export interface HookDeliveryOptions {
  db: Kysely<Database>;
  settings: HookSettings;
  logger: Logger;
  /** `hooks.scriptsDirectory`: where allow-listed scripts live; none, no script hook can run. */
  scriptsDirectory?: string | undefined;
  /**
   * Asks the pod's controller to look again, in the transaction that records a blocking delivery's end (the pod may
   * be waiting for it). Given by the composition root: hooks know nothing of how pods are reconciled.
   */
  wakePod(trx: Kysely<Database>, podId: string): Promise<void>;
  /** Extra CA certificates for https hooks: for tests only (the configuration has no such setting). */
  ca?: string | string[];
}

/** Longest a delivery may take (config.timeout_seconds and the setting are at most 60 s), plus room for the row. */
const taskTimeoutMs = 90_000;

export function defineHookDelivery(engine: JobEngine, options: HookDeliveryOptions): void {
  // Deliveries log as the webhooks queue's worker: that is where an admin looks for them.
  const deps = { ...options, logger: componentLogger(options.logger, workerComponent(lifecycleQueue)), engine };
  engine.defineTask({
    queue: lifecycleQueue, type: hookExecuteType, timeoutMs: taskTimeoutMs,
    handler: (job, { signal }) => executeHook(deps, job, signal),
    // Ended or retried outside a run that recorded it (timed out, lost, cancelled or retried by an admin).
    onStatusChange: followDeliveryJob,
  });
}

type Deps = HookDeliveryOptions & { engine: JobEngine };

async function executeHook(options: Deps, job: RunningJob, signal?: AbortSignal): Promise<void> {
  const { db, logger } = options;
  const payload = job.payload as unknown as HookExecutePayload;
  const hook = await db.selectFrom('cloud_pod_hooks').selectAll().where('id', '=', payload.hook_id).executeTakeFirst();
  // Re-read, not trusted: a hook deleted, deactivated or moved to another event since the fan-out gets nothing.
  if (!hook || !hook.is_active || hook.deletion_requested_at !== null || hook.tenant_id !== payload.event.tenant_id
    || hook.event !== payload.event.event) {
    logger.debug({ hookId: payload.hook_id, deliveryId: payload.delivery_id }, 'hook gone, inactive or changed: delivery skipped');
    await db.transaction().execute(async (trx) => {
      await markSkipped(trx, payload.delivery_id, job.attempt);
      await wakePod(options, trx, payload);
    });
    return;
  }
  const envelope = buildEnvelope(payload.delivery_id, payload.event);
  const outcome = await deliver(options, hook, envelope, signal);
  const lastAttempt = job.attempt >= job.maxAttempts;
  const reason = outcome.ok ? '' : redact(outcome.reason, secretsOf(hook));
  const attempts = `attempt ${job.attempt} of ${job.maxAttempts}`;
  const ended: AttemptOutcome = outcome.ok ? { status: 'delivered' }
    : { status: lastAttempt ? 'given_up' : 'failed', error: reason };
  await recordOutcome(options, { hook, job, payload }, ended, outcome.ok
    ? { type: lastDeliveryCondition, status: 'True', reason: 'Delivered',
      message: `${envelope.event} delivery ${envelope.id} delivered on ${attempts} (${outcome.detail})` }
    : { type: lastDeliveryCondition, status: 'False', reason: lastAttempt ? 'GivenUp' : 'DeliveryFailed',
      message: `${envelope.event} delivery ${envelope.id} failed on ${attempts}${lastAttempt ? ', given up' : ''}: ${reason}` });
  if (outcome.ok) {
    logger.info({ hookId: hook.id, event: envelope.event, deliveryId: envelope.id, attempt: job.attempt },
      'hook delivered');
    return;
  }
  if (lastAttempt) {
    logger.warn({ hookId: hook.id, tenantId: hook.tenant_id, event: envelope.event, deliveryId: envelope.id,
      attempts: job.attempt, reason }, 'hook delivery given up after its last attempt');
  }
  throw new HookDeliveryError(reason);
}

/** The pod waits for a blocking delivery: once it has ended, its controller looks again. */
async function wakePod(options: Deps, trx: Kysely<Database>, payload: HookExecutePayload): Promise<void> {
  if (payload.blocking) await options.wakePod(trx, payload.event.pod_id);
}

/**
 * One attempt's outcome in one transaction: LastDelivery on the hook's row (locked, so spec writers queue), the
 * delivery's ledger row, and, when the delivery has ended, the waiting pod's wake-up.
 */
async function recordOutcome(options: Deps, { hook, job, payload }: { hook: HookRow; job: RunningJob;
  payload: HookExecutePayload }, outcome: AttemptOutcome, condition: ConditionUpdate): Promise<void> {
  const delivery = { hook_id: hook.id, tenant_id: hook.tenant_id, pod_id: payload.event.pod_id,
    event: payload.event.event, delivery_id: payload.delivery_id, job_id: job.id, blocking: payload.blocking === true };
  await options.db.transaction().execute(async (trx) => {
    // A hook deleted meanwhile took its ledger rows along: nothing left to record.
    if (await recordLastDelivery(trx, hook, condition)) await recordAttempt(trx, delivery, job.attempt, outcome);
    if (outcome.status !== 'failed') await wakePod(options, trx, payload);
  });
}

async function deliver(options: HookDeliveryOptions, hook: HookRow, envelope: Envelope, signal?: AbortSignal)
  : Promise<DeliveryOutcome> {
  const parsed = hookConfigSchema.safeParse(hook.config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    return { ok: false, reason: `the hook's config is invalid: ${problems}` };
  }
  const config: HookConfig = parsed.data;
  const timeoutSeconds = config.timeout_seconds ?? await options.settings.getNumber('cloudpods.webhooks.timeout_seconds');
  const body = JSON.stringify(envelope);
  if (hook.type === 'http') {
    const allowed = parseAllowedNetworks(await options.settings.getJson('cloudpods.webhooks.allowed_networks'));
    return deliverHttp({
      url: hook.target, body, timeoutMs: timeoutSeconds * 1000, allowedNetworks: allowed, signal, ca: options.ca,
      headers: { ...config.headers, ...signatureHeaders(hook.signing_secret, envelope.id, body) },
    });
  }
  return runScript({
    directory: options.scriptsDirectory, name: hook.target, input: body, timeoutMs: timeoutSeconds * 1000, signal,
    env: { ...config.env, CLOUDPODS_EVENT: envelope.event, CLOUDPODS_POD_ID: envelope.pod_id,
      CLOUDPODS_TENANT_ID: envelope.tenant_id, CLOUDPODS_DELIVERY_ID: envelope.id },
  });
}

/** Values a failure reason could echo back (a receiver repeating a header, a script printing its env). */
function secretsOf(hook: HookRow): string[] {
  const config = hook.config as { headers?: unknown; env?: unknown };
  const values = (record: unknown) => (record && typeof record === 'object' ? Object.values(record) : [])
    .filter((v): v is string => typeof v === 'string' && v.length >= 6);
  return [hook.signing_secret, ...values(config.headers), ...values(config.env)];
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/**
 * Sets LastDelivery on the hook's row for the generation this delivery acted on (the spec it read), and
 * observed_generation with it, as a controller's status write does for its objects; written (bumping updated_at)
 * only when something changes. observed_generation never goes back: a slower delivery of an older spec finishing
 * last still sets the condition, which is about the latest attempt. False when the hook is gone.
 */
async function recordLastDelivery(trx: Kysely<Database>, delivered: Pick<HookRow, 'id' | 'generation'>,
  update: ConditionUpdate): Promise<boolean> {
  const row = await trx.selectFrom('cloud_pod_hooks').select(['conditions', 'observed_generation'])
    .where('id', '=', delivered.id).forUpdate().executeTakeFirst();
  if (!row) return false;
  const conditions = setCondition(row.conditions, update, delivered.generation);
  const observedGeneration = Math.max(row.observed_generation, delivered.generation);
  if (isDeepStrictEqual(conditions, row.conditions) && observedGeneration === row.observed_generation) return true;
  await trx.updateTable('cloud_pod_hooks').set({ conditions: JSON.stringify(conditions),
    observed_generation: observedGeneration, updated_at: sql`now()` }).where('id', '=', delivered.id).execute();
  return true;
}
