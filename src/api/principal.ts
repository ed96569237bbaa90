import type { Permission } from '../auth/permissions.ts';
import type { Actor } from '../observability/audit.ts';

/** The caller, as established from its bearer token. */
export interface Principal {
  tokenId: string;
  tokenName: string;
  /** The tenant the token acts for; null for platform tokens. */
  tenantId: string | null;
  permissions: ReadonlySet<Permission>;
  isAdmin: boolean;
  /** When the token stops working; null: never. Tokens it issues expire no later. */
  expiresAt: Date | null;
  actor: Actor;
}
