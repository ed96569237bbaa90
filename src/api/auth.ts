import type { Context, MiddlewareHandler } from 'hono';
import { powersLacking } from '../auth/grants.ts';
import { checkToken, touchToken, type ApiToken, type ApiTokenView } from '../auth/tokens.ts';
import type { Permission } from '../auth/permissions.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../observability/logger.ts';
import { ApiError } from './errors.ts';
import type { AppEnv } from './context.ts';
import type { Principal } from './principal.ts';

export type { Principal } from './principal.ts';

const challenge = 'Bearer realm="cloudpods"';

function unauthorized(message: string, error = 'invalid_token'): ApiError {
  return new ApiError(401, 'unauthorized', message, {},
    { 'WWW-Authenticate': `${challenge}, error="${error}"` });
}

const rejection: Record<'malformed' | 'unknown' | 'expired' | 'revoked', string> = {
  malformed: 'the bearer token is malformed: expected cpk_ followed by 43 characters',
  unknown: 'the bearer token is not known',
  expired: 'the bearer token has expired',
  revoked: 'the bearer token has been revoked',
};

/** Establishes the principal from `Authorization: Bearer cpk_…`; every failure is 401. */
export function authenticate(db: Db, logger: Logger): MiddlewareHandler<AppEnv> {
  return async function authenticateRequest(c, next) {
    const header = c.req.header('authorization');
    if (!header) {
      throw new ApiError(401, 'unauthorized', 'authentication required: send Authorization: Bearer <token>', {},
        { 'WWW-Authenticate': challenge });
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"', 'invalid_request');
    const check = await checkToken(db, match[1]!);
    if (!check.ok) throw unauthorized(rejection[check.reason]);
    const { token } = check;
    touchToken(db, token).catch((error) => logger.warn({ err: error }, 'could not record token use'));
    c.set('principal', principalOfToken(token));
    await next();
  };
}

/** The principal a valid token establishes. */
export function principalOfToken(token: ApiToken): Principal {
  return {
    tokenId: token.id,
    tokenName: token.name,
    tenantId: token.tenant_id,
    permissions: new Set(token.permissions as Permission[]),
    isAdmin: token.is_admin,
    expiresAt: token.expires_at,
    actor: { type: 'token', id: token.id },
  };
}

/** Route guard: the token must carry every named permission (403 names the missing ones). */
export function requirePermission(...needed: Permission[]): MiddlewareHandler<AppEnv> {
  return async function checkPermissions(c, next) {
    const { permissions } = c.get('principal');
    const missing = needed.filter((p) => !permissions.has(p));
    if (missing.length > 0) {
      throw new ApiError(403, 'forbidden', `missing permission: ${missing.join(', ')}`, { missing });
    }
    await next();
  };
}

/** Route guard: the token must have admin scope. */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async function checkAdmin(c, next) {
    if (!c.get('principal').isAdmin) throw new ApiError(403, 'forbidden', 'admin scope required', { missing: ['admin'] });
    await next();
  };
}

/** True when the principal may see objects of this tenant; other tenants' objects must answer 404. */
export function canSeeTenant(principal: Principal, tenantId: string | null): boolean {
  return principal.isAdmin || (tenantId !== null && principal.tenantId === tenantId);
}

/**
 * True when the principal may see and revoke this token: its own, or one of a tenant it sees whose permissions and
 * admin scope it holds itself, so a leaked weak token cannot lock out the tenant's stronger automation.
 */
export function canManageToken(principal: Principal, token: ApiTokenView): boolean {
  if (token.id === principal.tokenId) return true;
  return canSeeTenant(principal, token.tenant_id) && powersLacking(principal,
    { permissions: token.permissions as Permission[], isAdmin: token.is_admin }).length === 0;
}

export const principalOf = (c: Context<AppEnv>): Principal => c.get('principal');
