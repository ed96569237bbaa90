import { isIP } from 'node:net';
import { Hono } from 'hono';
import { z } from 'zod';
import { dnsLabelSchema } from '../../dns/label.ts';
import { createPool, findPool, listAllocations, listPools, updatePool } from '../../tenancy/ip-pools.ts';
import { principalOf, requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { notFound, validationError } from '../errors.ts';
import { readJson, readParam } from '../validation.ts';
import { parseCidr } from '../../net/cidr.ts';
import { poolProblems } from '../../tenancy/pool-rules.ts';

const address = z.string().refine((v) => isIP(v) !== 0, 'expected an IP address');
const mutable = {
  bridge: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,15}$/, 'expected a bridge name such as vmbr0'),
  vlan: z.number().int().min(1, 'expected 1 to 4094').max(4094, 'expected 1 to 4094').nullable().optional(),
  nodes: z.array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/, 'expected a node name')).max(100).optional(),
  nameservers: z.array(address).max(4).optional(),
  is_active: z.boolean().optional(),
};
const createBody = z.strictObject({
  name: dnsLabelSchema,
  cidr: z.string().refine((v) => parseCidr(v) !== null, 'expected a network such as 192.0.2.0/24'),
  gateway: address,
  range_start: address,
  range_end: address,
  ...mutable,
});
const patchBody = z.strictObject(mutable).partial()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change');

/** Address pools (admin scope and cloudpods.manage): pods on a node get addresses from a pool serving it. */
export function ipPoolRoutes({ db, presence, settings }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requireAdmin(), requirePermission('cloudpods.manage'));

  app.get('/', async (c) => c.json({ pools: await listPools(db) }));

  app.post('/', idempotent({ db, presence }), async (c) => {
    const body = await readJson(c, createBody);
    const problems = poolProblems(body, {
      4: await settings.getNumber('cloudpods.ip_pools.largest_ipv4_prefix'),
      6: await settings.getNumber('cloudpods.ip_pools.largest_ipv6_prefix'),
    });
    if (problems.length > 0) throw validationError(problems);
    const pool = await createPool(db, { ...body, family: parseCidr(body.cidr)!.family }, principalOf(c).actor);
    return c.json({ pool }, 201);
  });

  app.get('/:id', async (c) => {
    const pool = await findPool(db, readParam(c, 'id', z.uuid(), 'pool'));
    if (!pool) throw notFound('pool');
    return c.json({ pool, allocations: await listAllocations(db, pool.id) });
  });

  app.patch('/:id', async (c) => {
    const id = readParam(c, 'id', z.uuid(), 'pool');
    const body = await readJson(c, patchBody);
    const pool = await updatePool(db, id, body, principalOf(c).actor);
    if (!pool) throw notFound('pool');
    return c.json({ pool });
  });

  return app;
}
