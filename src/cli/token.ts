import { parseArgs } from 'node:util';
import { isPermission, permissions, type Permission } from '../auth/permissions.ts';
import { issueApiToken, listApiTokens, revokeApiToken } from '../auth/tokens.ts';
import { loadConfig } from '../config.ts';
import { openDatabase, type Db } from '../db/database.ts';
import { systemActor } from '../observability/audit.ts';
import { findTenant } from '../tenancy/tenants.ts';
import { parseDuration } from '../util/duration.ts';
import { commandDatabaseUrl, print, printError, UsageError } from './common.ts';

export const tokenUsage = `cloudpods token create --tenant <id|slug> --permissions a,b [--admin] [--expires 30d] [--name NAME]
cloudpods token create --admin --permissions a,b [--expires 30d] [--name NAME]
  Prints the new token once on stdout (its details on stderr); only its hash is stored.
  Permissions: ${permissions.join(', ')}
cloudpods token revoke <token-id>
cloudpods token list [--tenant <id|slug>]`;

const cliActor = systemActor('cli');

export async function tokenCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const config = loadConfig({ mode: 'dev' });
  const run = sub === 'create' ? createToken : sub === 'revoke' ? revokeToken : sub === 'list' ? listTokens : null;
  if (!run) throw new UsageError(`unknown token command ${sub ? `"${sub}"` : '(none)'}`);
  const db = openDatabase({ url: commandDatabaseUrl(config), poolMax: 2 });
  try {
    return await run(db, rest);
  } finally {
    await db.destroy();
  }
}

async function createToken(db: Db, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true, allowPositionals: false,
    options: {
      tenant: { type: 'string' },
      permissions: { type: 'string', default: '' },
      admin: { type: 'boolean', default: false },
      expires: { type: 'string' },
      name: { type: 'string' },
    },
  });
  const wanted = values.permissions.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = wanted.filter((p) => !isPermission(p));
  if (unknown.length > 0) throw new UsageError(`--permissions: unknown ${unknown.join(', ')}`);
  if (!values.tenant && !values.admin) throw new UsageError('--tenant is required unless --admin is given');
  const expiresMs = values.expires === undefined ? null : parseDuration(values.expires);
  if (values.expires !== undefined && expiresMs === null) {
    throw new UsageError('--expires: expected a duration such as 90m, 12h or 30d');
  }
  let tenantId: string | null = null;
  if (values.tenant) {
    const tenant = await findTenant(db, values.tenant);
    if (!tenant) throw new UsageError(`--tenant: no tenant with id or slug "${values.tenant}"`);
    tenantId = tenant.id;
  }
  const issued = await issueApiToken(db, {
    name: values.name ?? (values.admin ? 'admin (cli)' : 'cli'),
    tenantId,
    permissions: wanted as Permission[],
    isAdmin: values.admin,
    expiresAt: expiresMs === null ? null : new Date(Date.now() + expiresMs),
  }, cliActor);
  print(issued.token);
  printError(`token ${issued.record.id} (${issued.record.name}) for ${tenantId ? `tenant ${tenantId}` : 'the platform'}` +
    `${issued.record.is_admin ? ', admin scope' : ''}; permissions: ${issued.record.permissions.join(', ') || 'none'}; ` +
    `expires: ${issued.record.expires_at?.toISOString() ?? 'never'}. It is shown only this once.`);
  return 0;
}

async function revokeToken(db: Db, args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  const [id] = positionals;
  if (!id || !/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError('token revoke needs the token id (a UUID)');
  const revoked = await revokeApiToken(db, id, cliActor);
  if (!revoked) {
    printError(`no token with id ${id}`);
    return 1;
  }
  print(`revoked ${revoked.id} (${revoked.name})`);
  return 0;
}

async function listTokens(db: Db, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { tenant: { type: 'string' } } });
  let tenantId: string | undefined;
  if (values.tenant) {
    const tenant = await findTenant(db, values.tenant);
    if (!tenant) throw new UsageError(`--tenant: no tenant with id or slug "${values.tenant}"`);
    tenantId = tenant.id;
  }
  for (const t of await listApiTokens(db, { tenantId })) {
    print([t.id, t.token_prefix + '…', t.name, t.tenant_id ?? 'platform', t.is_admin ? 'admin' : '-',
      t.permissions.join(',') || '-', t.expires_at?.toISOString() ?? 'never'].join('  '));
  }
  return 0;
}
