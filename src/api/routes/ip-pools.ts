import { isIP } from 'node:net';
import { Hono } from 'hono';
import { z } from 'zod';
import { createPool, findPool, listAllocations, listPools, updatePool } from '../../tenancy/ip-pools.ts';
import { principalOf, requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { notFound, validationError, type FieldProblem } from '../errors.ts';
import { readJson, readParam } from '../validation.ts';
import { slugSchema } from './tenants.ts';
import { addressInCidr, addressToBigInt, parseCidr } from '../../net/cidr.ts';

const address = z.string().refine((v) => isIP(v) !== 0, 'expected an IP address');
const mutable = {
  bridge: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,15}$/, 'expected a bridge name such as vmbr0'),
  vlan: z.number().int().min(1, 'expected 1 to 4094').max(4094, 'expected 1 to 4094').nullable().optional(),
  nodes: z.array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/, 'expected a node name')).max(100).optional(),
  nameservers: z.array(address).max(4).optional(),
  is_active: z.boolean().optional(),
};
const createBody = z.strictObject({
  name: slugSchema,
  cidr: z.string().refine((v) => parseCidr(v) !== null, 'expected a network such as 192.0.2.0/24'),
  gateway: address,
  range_start: address,
  range_end: address,
  ...mutable,
});
const patchBody = z.strictObject(mutable).partial()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change');

/** Address pools (admin scope and cloudpods.manage): pods on a node get addresses from a pool serving it. */
export function ipPoolRoutes({ db, presence }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requireAdmin(), requirePermission('cloudpods.manage'));

  app.get('/', async (c) => c.json({ pools: await listPools(db) }));

  app.post('/', idempotent({ db, presence }), async (c) => {
    const body = await readJson(c, createBody);
    const network = parseCidr(body.cidr)!;
    const problems: FieldProblem[] = (['gateway', 'range_start', 'range_end'] as const)
      .filter((field) => !addressInCidr(body[field], network))
      .map((field) => ({ name: field, messages: [`must lie inside ${body.cidr}`] }));
    body.nameservers?.forEach((ns, i) => {
      if (isIP(ns) !== network.family) problems.push({ name: `nameservers[${i}]`, messages: [`expected an IPv${network.family} address`] });
    });
    if (problems.length === 0 && compareAddresses(body.range_start, body.range_end) > 0) {
      problems.push({ name: 'range_end', messages: ['must not come before range_start'] });
    }
    if (problems.length > 0) throw validationError(problems);
    const pool = await createPool(db, { ...body, family: network.family }, principalOf(c).actor);
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

function compareAddresses(a: string, b: string): number {
  const [x, y] = [addressToBigInt(a)!, addressToBigInt(b)!];
  return x < y ? -1 : x > y ? 1 : 0;
}
