/** Permissions a token can carry (the architecture's list). Admin scope is separate: see `ApiToken.is_admin`. */
export const permissions = [
  'settings.manage',
  'cloudpods.view',
  'cloudpods.manage',
  'cloudpods.volumes.manage',
  'health.view',
  'hooks.manage',
  'plans.manage',
] as const;

export type Permission = (typeof permissions)[number];

export function isPermission(value: string): value is Permission {
  return (permissions as readonly string[]).includes(value);
}
