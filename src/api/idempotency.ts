import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { deleteOlderThan } from '../jobs/batched-delete.ts';
import { principalOf } from './auth.ts';
import type { AppEnv } from './context.ts';
import { ApiError } from './errors.ts';

/** A request still marked in progress after this long is taken as abandoned (its process died) and may be retried. */
const abandonedAfterMs = 5 * 60_000;

/**
 * `Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header): the first answer to a key is stored and
 * replayed to a retry with the same key and body (`Idempotent-Replayed: true`); the same key with another body is
 * 422, and a retry while the first is still running is 409. Server errors are not stored, so they can be retried.
 * Keys belong to the tenant (or, for platform tokens, the token) and live 24 hours.
 */
export function idempotent(db: Db, { exceptPaths = [] }: { exceptPaths?: string[] } = {}): MiddlewareHandler<AppEnv> {
  const excluded = new Set(exceptPaths);
  return async function replayOrRecord(c, next) {
    const key = c.req.header('idempotency-key');
    if (key === undefined || c.req.method !== 'POST' || excluded.has(c.req.path)) return next();
    if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
      throw new ApiError(400, 'validation_error', 'Idempotency-Key must be 1 to 255 visible ASCII characters',
        { fields: [{ name: 'Idempotency-Key', messages: ['expected 1 to 255 visible ASCII characters'] }] });
    }
    const principal = principalOf(c);
    const scope = principal.tenantId ? `tenant:${principal.tenantId}` : `token:${principal.tokenId}`;
    const body = await c.req.text();
    const requestHash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n${body}`).digest('hex');

    const claimed = await db.insertInto('idempotency_keys')
      .values({ scope, key, method: c.req.method, path: c.req.path, request_hash: requestHash })
      .onConflict((oc) => oc.columns(['scope', 'key']).doUpdateSet({
        // Reclaim only an expired key or an abandoned attempt; otherwise leave the row as it is.
        request_hash: requestHash, method: c.req.method, path: c.req.path, state: 'in_progress',
        response_status: null, response_body: null, created_at: sql`now()`, expires_at: sql`now() + interval '24 hours'`,
      }).where((eb) => eb.or([
        eb('idempotency_keys.expires_at', '<=', sql<Date>`now()`),
        eb.and([eb('idempotency_keys.state', '=', 'in_progress'),
          eb('idempotency_keys.created_at', '<', sql<Date>`now() - ${sql.lit(`${abandonedAfterMs} milliseconds`)}::interval`)]),
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

    try {
      await next();
    } catch (error) {
      await db.deleteFrom('idempotency_keys').where('id', '=', claimed.id).execute();
      throw error;
    }
    const status = c.res.status;
    const isJson = (c.res.headers.get('content-type') ?? '').includes('json');
    if (status >= 500 || !isJson) {
      await db.deleteFrom('idempotency_keys').where('id', '=', claimed.id).execute();
      return;
    }
    const responseBody = await c.res.clone().json();
    await db.updateTable('idempotency_keys')
      .set({ state: 'completed', response_status: status, response_body: JSON.stringify(responseBody) })
      .where('id', '=', claimed.id).execute();
  };
}

/** Deletes expired keys in short batches; the daily maintenance runs it. */
export function pruneIdempotencyKeys(db: Db): Promise<number> {
  return deleteOlderThan(db, 'idempotency_keys', new Date(), { column: 'expires_at' });
}
