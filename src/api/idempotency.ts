import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { presenceHeld, type ProcessPresence } from '../db/presence.ts';
import { deleteOlderThan } from '../jobs/batched-delete.ts';
import type { MaintenanceTask } from '../jobs/maintenance.ts';
import { principalOf } from './auth.ts';
import type { AppEnv } from './context.ts';
import { ApiError } from './errors.ts';

/** Keys in progress written before their process's presence lock was recorded (migration 0016) wait this long. */
const ownerlessAbandonedAfter = sql<Date>`now() - interval '5 minutes'`;

/**
 * Refusals of a request before it was carried out (authentication, permission, validation, media type, rate
 * limit): a retry under the same key is judged afresh, as Stripe does, so a corrected request goes through and a
 * refusal never holds the key for 24 hours. Server errors are not kept either, so they can be retried.
 */
export function answerIsKept(status: number, errorCode: string | undefined): boolean {
  if (status >= 500 || [400, 401, 403, 415, 429].includes(status)) return false;
  return errorCode !== 'validation_error';
}

/**
 * `Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header): the first answer to a key is stored and
 * replayed to a retry with the same key and body (`Idempotent-Replayed: true`); the same key with another body is
 * 422, and a retry while the first is still being answered is 409. Keys belong to the token that sent them and
 * live 24 hours.
 *
 * Each POST route mounts it after its guards (`requirePermission`, `requireAdmin`), so nothing is replayed or
 * recorded for a request its token may not make; routes whose answer holds a secret do not mount it, since a replay
 * would hand the secret out again. A key in progress carries its process's presence lock: when that process dies,
 * the key is free again at once.
 */
export function idempotent({ db, presence }: { db: Db; presence: ProcessPresence }): MiddlewareHandler<AppEnv> {
  return async function replayOrRecord(c, next) {
    const key = c.req.header('idempotency-key');
    if (key === undefined || c.req.method !== 'POST') return next();
    if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
      throw new ApiError(400, 'validation_error', 'Idempotency-Key must be 1 to 255 visible ASCII characters',
        { fields: [{ name: 'Idempotency-Key', messages: ['expected 1 to 255 visible ASCII characters'] }] });
    }
    const scope = `token:${principalOf(c).tokenId}`;
    const body = await c.req.text();
    const requestHash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n${body}`).digest('hex');

    const claimed = await db.insertInto('idempotency_keys')
      .values({ scope, key, method: c.req.method, path: c.req.path, request_hash: requestHash,
        owner_lock: presence.lock })
      .onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet({
        // Reclaim only an expired key or an abandoned attempt; otherwise leave the row as it is.
        request_hash: requestHash, method: c.req.method, path: c.req.path, state: 'in_progress',
        response_status: null, response_body: null, owner_lock: presence.lock, created_at: sql`now()`,
        expires_at: sql`now() + interval '24 hours'`,
      }).where((eb) => eb.or([
        eb('idempotency_keys.expires_at', '<=', sql<Date>`now()`),
        eb.and([eb('idempotency_keys.state', '=', 'in_progress'), eb.or([
          eb.and([eb('idempotency_keys.owner_lock', 'is', null),
            eb('idempotency_keys.created_at', '<', ownerlessAbandonedAfter)]),
          eb.and([eb('idempotency_keys.owner_lock', 'is not', null),
            eb.not(presenceHeld(eb.ref('idempotency_keys.owner_lock')))]),
        ])]),
      ])))
      .returning('id').executeTakeFirst();

    if (!claimed) {
      const existing = await db.selectFrom('idempotency_keys').selectAll().where('scope', '=', scope)
        .where('key', '=', key).executeTakeFirstOrThrow();
      if (existing.request_hash !== requestHash) {
        throw new ApiError(422, 'validation_error', 'this Idempotency-Key was used with a different request',
          { fields: [{ name: 'Idempotency-Key', messages: ['already used with a different request'] }] });
      }
      if (existing.state === 'in_progress') {
        throw new ApiError(409, 'conflict', 'a request with this Idempotency-Key is still being processed; retry later');
      }
      c.header('Idempotent-Replayed', 'true');
      return c.json(existing.response_body as object, existing.response_status as 200);
    }

    const release = () => db.deleteFrom('idempotency_keys').where('id', '=', claimed.id).execute();
    try {
      await next();
    } catch (error) {
      await release();
      throw error;
    }
    const status = c.res.status;
    const isJson = (c.res.headers.get('content-type') ?? '').includes('json');
    const answer = isJson ? await c.res.clone().json() as { error?: { code?: string } } : undefined;
    if (!answer || !answerIsKept(status, answer.error?.code)) {
      await release();
      return;
    }
    await db.updateTable('idempotency_keys')
      .set({ state: 'completed', response_status: status, response_body: JSON.stringify(answer) })
      .where('id', '=', claimed.id).execute();
  };
}

/** Deletes expired keys in short batches; the daily maintenance runs it. */
export function pruneIdempotencyKeys(db: Db): Promise<number> {
  return deleteOlderThan(db, 'idempotency_keys', new Date(), { column: 'expires_at' });
}

/** Expired keys' removal as a daily maintenance pass. */
export const idempotencyKeysRetentionTask = (db: Db): MaintenanceTask => ({
  type: 'idempotency_keys.prune', minute: 35, run: async () => ({ deleted: await pruneIdempotencyKeys(db) }),
});
