import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { ApiTokensTable, Database } from '../db/schema.ts';
import { recordAudit, actorLabel, type Actor } from '../observability/audit.ts';
import type { Permission } from './permissions.ts';

export type ApiToken = Selectable<ApiTokensTable>;

/** What a token record shows: never the hash. */
export type ApiTokenView = Omit<ApiToken, 'token_hash'>;

const tokenPattern = /^cpk_[A-Za-z0-9_-]{43}$/;

/** `cpk_` and 256 random bits; only its SHA-256 is stored, so a database leak reveals no usable token. */
export function generateToken(): string {
  return `cpk_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const looksLikeToken = (value: string): boolean => tokenPattern.test(value);

/** Enough of a token to recognise it in a list, too little to use it. */
const prefixOf = (token: string) => token.slice(0, 12);

export function toView({ token_hash: _hash, ...view }: ApiToken): ApiTokenView {
  return view;
}

export interface NewApiToken {
  name: string;
  tenantId: string | null;
  permissions: readonly Permission[];
  isAdmin: boolean;
  expiresAt: Date | null;
}

export interface IssuedToken {
  /** The plain token: shown once, never stored. */
  token: string;
  record: ApiTokenView;
}

export async function issueApiToken(db: Kysely<Database>, spec: NewApiToken, actor: Actor,
  requestId?: string): Promise<IssuedToken> {
  const token = generateToken();
  const record = await db.transaction().execute(async (trx) => {
    const row = await trx.insertInto('api_tokens').values({
      name: spec.name,
      token_hash: hashToken(token),
      token_prefix: prefixOf(token),
      tenant_id: spec.tenantId,
      permissions: [...new Set(spec.permissions)].sort(),
      is_admin: spec.isAdmin,
      created_by: actorLabel(actor),
      expires_at: spec.expiresAt,
    }).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, category: 'auth', action: 'token.created', tenantId: row.tenant_id,
      requestId, details: { token_id: row.id, name: row.name, permissions: row.permissions,
        is_admin: row.is_admin, expires_at: row.expires_at } });
    return row;
  });
  return { token, record: toView(record) };
}

export type TokenCheck =
  | { ok: true; token: ApiToken }
  | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'revoked' };

/** Looks a presented token up by its hash and says whether it may be used now. */
export async function checkToken(db: Kysely<Database>, presented: string, now = new Date()): Promise<TokenCheck> {
  if (!looksLikeToken(presented)) return { ok: false, reason: 'malformed' };
  const token = await db.selectFrom('api_tokens').selectAll()
    .where('token_hash', '=', hashToken(presented)).executeTakeFirst();
  if (!token) return { ok: false, reason: 'unknown' };
  if (token.revoked_at) return { ok: false, reason: 'revoked' };
  if (token.expires_at && token.expires_at <= now) return { ok: false, reason: 'expired' };
  return { ok: true, token };
}

/** Notes that a token was used, at most once a minute per token, so reads do not become writes. */
export async function touchToken(db: Kysely<Database>, token: ApiToken): Promise<void> {
  if (token.last_used_at && Date.now() - token.last_used_at.getTime() < 60_000) return;
  await db.updateTable('api_tokens').set({ last_used_at: sql`now()` }).where('id', '=', token.id).execute();
}

export interface TokenFilter {
  /** Only this tenant's tokens; undefined lists every token. */
  tenantId?: string;
  includeRevoked?: boolean;
}

export async function listApiTokens(db: Kysely<Database>, filter: TokenFilter = {}): Promise<ApiTokenView[]> {
  let query = db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id');
  if (filter.tenantId) query = query.where('tenant_id', '=', filter.tenantId);
  if (!filter.includeRevoked) query = query.where('revoked_at', 'is', null);
  return (await query.execute()).map(toView);
}

export async function findApiToken(db: Kysely<Database>, id: string): Promise<ApiTokenView | undefined> {
  const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toView(row);
}

/** Revokes a token; revoking one already revoked changes nothing and records nothing. */
export async function revokeApiToken(db: Kysely<Database>, id: string, actor: Actor,
  requestId?: string): Promise<ApiTokenView | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.updateTable('api_tokens').set({ revoked_at: sql`now()` })
      .where('id', '=', id).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
    if (!row) {
      const existing = await trx.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return existing && toView(existing);
    }
    await recordAudit(trx, { actor, category: 'auth', action: 'token.revoked', tenantId: row.tenant_id,
      requestId, details: { token_id: row.id, name: row.name } });
    return toView(row);
  });
}
