import { permissions, type Permission } from '../db/schema.ts';

/**
 * Permissions a token can carry (the architecture's list). The database checks the same list
 * (api_tokens_permissions_check), so the schema is where it lives; a new permission needs a migration.
 * Admin scope is separate: see `is_admin`.
 */
export { permissions, type Permission };

export function isPermission(value: string): value is Permission {
  return (permissions as readonly string[]).includes(value);
}
