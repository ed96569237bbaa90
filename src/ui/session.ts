import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { checkToken, hashToken } from '../auth/tokens.ts';
import type { Db } from '../db/database.ts';
import { principalOfToken } from '../api/auth.ts';
import type { AppEnv } from '../api/context.ts';

export const sessionCookie = 'cloudpods_admin';

/**
 * The admin pages sign in with the same API tokens: the token lives in an HttpOnly, SameSite=Strict cookie
 * scoped to /admin, so page scripts cannot read it and other sites cannot send it.
 */
export function setSession(c: Context, token: string, hours: number): void {
  setCookie(c, sessionCookie, token, {
    httpOnly: true, sameSite: 'Strict', path: '/admin', maxAge: Math.round(hours * 3600),
    secure: new URL(c.req.url).protocol === 'https:',
  });
}

export function clearSession(c: Context): void {
  deleteCookie(c, sessionCookie, { path: '/admin' });
}

/**
 * A CSRF token bound to the session: an HMAC of the session token's hash, so it needs no server-side state and
 * only a page served to the holder of the cookie can know it. Forms send it back in a hidden field.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', hashToken(sessionToken)).update('cloudpods-admin-csrf').digest('base64url');
}

export function csrfValid(sessionToken: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface AdminEnv {
  Variables: AppEnv['Variables'] & { sessionToken: string };
}

/** Pages behind the login: a missing or unusable session goes to the login form; only admin tokens get in. */
export function requireSession(db: Db): MiddlewareHandler<AdminEnv> {
  return async function checkSession(c, next) {
    const token = getCookie(c, sessionCookie);
    const check = token ? await checkToken(db, token) : undefined;
    if (!token || !check?.ok || !check.token.is_admin) {
      if (token) clearSession(c);
      const reason = check && !check.ok ? check.reason : check?.ok ? 'not-admin' : undefined;
      return c.redirect(`/admin/login${reason ? `?reason=${reason}` : ''}`, 303);
    }
    c.set('principal', principalOfToken(check.token));
    c.set('sessionToken', token);
    await next();
  };
}
