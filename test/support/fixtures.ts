import { randomBytes } from 'node:crypto';
import type { Permission } from '../../src/auth/permissions.ts';
import { issueApiToken, type ApiTokenView } from '../../src/auth/tokens.ts';
import type { Db } from '../../src/db/database.ts';
import { systemActor } from '../../src/observability/audit.ts';
import { createTenant, type Tenant } from '../../src/tenancy/tenants.ts';

const testActor = systemActor('test');

export async function aTenant(db: Db, slug = `t-${randomBytes(4).toString('hex')}`): Promise<Tenant> {
  return createTenant(db, { slug, name: `Tenant ${slug}` }, testActor);
}

export interface TokenSpec {
  tenant?: Tenant | null;
  permissions?: Permission[];
  admin?: boolean;
  expiresAt?: Date | null;
  name?: string;
}

/** Issues a token the way the CLI does and returns the plain secret with its record. */
export async function aToken(db: Db, spec: TokenSpec = {}): Promise<{ token: string; record: ApiTokenView }> {
  return issueApiToken(db, {
    name: spec.name ?? 'test token',
    tenantId: spec.tenant?.id ?? null,
    permissions: spec.permissions ?? [],
    isAdmin: spec.admin ?? false,
    expiresAt: spec.expiresAt ?? null,
  }, testActor);
}
