import { Hono } from 'hono';
import { z } from 'zod';
import { issuedExpiry, powersLacking } from '../../auth/grants.ts';
import { permissions, type Permission } from '../../auth/permissions.ts';
import { findApiToken, issueApiToken, listApiTokens, revokeApiToken } from '../../auth/tokens.ts';
import { findTenant } from '../../tenancy/tenants.ts';
import { parseDuration } from '../../util/duration.ts';
import { canManageToken, canSeeTenant, principalOf, type Principal } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { ApiError, notFound, validationError } from '../errors.ts';
import { pageOf, paginationQuery } from '../pagination.ts';
import { readJson, readParam, readQuery } from '../validation.ts';

const createTokenBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
  permissions: z.array(z.enum(permissions, { error: `expected one of ${permissions.join(', ')}` }))
    .max(permissions.length).default([]),
  tenant: z.string().trim().min(1).optional(),
  admin: z.boolean().default(false),
  expires_in: z.string().refine((v) => parseDuration(v) !== null, 'expected a duration such as 90m, 12h or 30d')
    .optional(),
});

const listTokensQuery = z.strictObject({
  ...paginationQuery,
  tenant: z.string().min(1).optional(),
  include_revoked: z.enum(['true', 'false']).default('false'),
});

const tokenId = z.uuid();

/** The calling token (`/api/me`) and token management (`/api/tokens`). */
export function tokenRoutes({ db }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/me', async (c) => {
    const principal = principalOf(c);
    const tenant = principal.tenantId ? await findTenant(db, principal.tenantId) : undefined;
    return c.json({
      principal: {
        token_id: principal.tokenId,
        token_name: principal.tokenName,
        tenant: tenant ? { id: tenant.id, slug: tenant.slug, name: tenant.name, status: tenant.status } : null,
        permissions: [...principal.permissions].sort(),
        admin: principal.isAdmin,
      },
    });
  });

  app.get('/tokens', async (c) => {
    const principal = principalOf(c);
    const query = readQuery(c, listTokensQuery);
    let tenantId = principal.tenantId ?? undefined;
    if (query.tenant) {
      const tenant = await findTenant(db, query.tenant);
      if (!tenant || !canSeeTenant(principal, tenant.id)) throw notFound('tenant');
      tenantId = tenant.id;
    } else if (principal.isAdmin) {
      tenantId = undefined;
    }
    const tokens = (await listApiTokens(db, { tenantId, includeRevoked: query.include_revoked === 'true' }))
      .filter((token) => canManageToken(principal, token));
    const { items, meta } = pageOf(tokens, query);
    return c.json({ tokens: items, meta });
  });

  app.post('/tokens', async (c) => {
    const principal = principalOf(c);
    const body = await readJson(c, createTokenBody);
    const tenantId = await resolveTokenTenant(principal, body.tenant, body.admin);
    refuseEscalation(principal, body.permissions, body.admin);
    const expiresIn = body.expires_in ? parseDuration(body.expires_in) : null;
    const issued = await issueApiToken(db, {
      name: body.name,
      tenantId,
      permissions: body.permissions,
      isAdmin: body.admin,
      expiresAt: expiryWithin(principal, expiresIn ? new Date(Date.now() + expiresIn) : null),
    }, principal.actor, c.get('requestId'));
    return c.json({ token: issued.record, secret: issued.token }, 201);
  });

  app.get('/tokens/:id', async (c) => {
    const token = await findApiToken(db, readParam(c, 'id', tokenId, 'token'));
    if (!token || !canManageToken(principalOf(c), token)) throw notFound('token');
    return c.json({ token });
  });

  app.delete('/tokens/:id', async (c) => {
    const principal = principalOf(c);
    const id = readParam(c, 'id', tokenId, 'token');
    const token = await findApiToken(db, id);
    if (!token || !canManageToken(principal, token)) throw notFound('token');
    await revokeApiToken(db, id, principal.actor, c.get('requestId'));
    return c.body(null, 204);
  });

  /** Tenant tokens mint tokens for their own tenant only; admins name any tenant, or none for a platform token. */
  async function resolveTokenTenant(principal: Principal, requested: string | undefined,
    admin: boolean): Promise<string | null> {
    if (!principal.isAdmin) {
      if (requested === undefined) return principal.tenantId;
      const tenant = await findTenant(db, requested);
      if (!tenant || tenant.id !== principal.tenantId) {
        throw validationError([{ name: 'tenant', messages: ['no such tenant'] }]);
      }
      return tenant.id;
    }
    if (requested === undefined) {
      if (!admin) throw validationError([{ name: 'tenant', messages: ['required unless admin is true'] }]);
      return null;
    }
    const tenant = await findTenant(db, requested);
    if (!tenant) throw validationError([{ name: 'tenant', messages: ['no such tenant'] }]);
    return tenant.id;
  }

  return app;
}

/** A token can only hand on what it holds itself. */
function refuseEscalation(principal: Principal, wanted: readonly Permission[], admin: boolean): void {
  const extra = powersLacking(principal, { permissions: wanted, isAdmin: admin });
  if (extra.length > 0) {
    throw new ApiError(403, 'forbidden', `a token cannot grant what it does not hold: ${extra.join(', ')}`,
      { missing: extra });
  }
}

/** A token can only hand on the lifetime it has left: a new token expires no later than the caller. */
function expiryWithin(principal: Principal, requested: Date | null): Date | null {
  const expiresAt = issuedExpiry(principal.expiresAt, requested);
  if (expiresAt === undefined) {
    const latest = principal.expiresAt!.toISOString();
    throw new ApiError(403, 'forbidden', `a token cannot grant what it does not hold: expires_in must end by ${latest}, `
      + 'when the calling token expires', { field: 'expires_in', latest_expires_at: latest });
  }
  return expiresAt;
}
