import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { CloudIpAllocationsTable, CloudIpPoolsTable, Database } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { recordAudit, type Actor } from '../observability/audit.ts';
import { QuotaExceededError } from './errors.ts';

export type IpPool = Selectable<CloudIpPoolsTable>;
export type IpAllocation = Selectable<CloudIpAllocationsTable>;

/** PostgreSQL prints inet values with a prefix length when it is not the full width; callers want plain addresses. */
const plainAddress = (value: string) => value.replace(/\/(32|128)$/, '');

function toPool(row: IpPool): IpPool {
  return { ...row, gateway: plainAddress(row.gateway), range_start: plainAddress(row.range_start),
    range_end: plainAddress(row.range_end), nameservers: row.nameservers.map(plainAddress) };
}

export async function listPools(db: Kysely<Database>): Promise<Array<IpPool & { allocated: number; size: number }>> {
  const rows = await db.selectFrom('cloud_ip_pools as p').selectAll('p')
    .select([
      sql<number>`(select count(*)::int from cloud_ip_allocations a where a.pool_id = p.id)`.as('allocated'),
      sql<number>`(p.range_end - p.range_start + 1)::float8`.as('size'),
    ])
    .orderBy('p.name').execute();
  return rows.map((row) => ({ ...toPool(row), allocated: row.allocated, size: Number(row.size) }));
}

export async function findPool(db: Kysely<Database>, id: string): Promise<IpPool | undefined> {
  const row = await db.selectFrom('cloud_ip_pools').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toPool(row);
}

/** What an admin gives when creating a pool: the table's columns but for the generated ones. */
export type PoolFields = Omit<Insertable<CloudIpPoolsTable>, 'id' | 'created_at' | 'updated_at'>;

export async function createPool(db: Kysely<Database>, fields: PoolFields, actor: Actor): Promise<IpPool> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.insertInto('cloud_ip_pools').values(fields).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, { actor, category: 'lifecycle', action: 'ip_pool.created', details: { ...fields } });
    return toPool(row);
  });
}

export async function updatePool(db: Kysely<Database>, id: string,
  changes: Partial<Pick<PoolFields, 'bridge' | 'vlan' | 'nodes' | 'nameservers' | 'is_active'>>,
  actor: Actor): Promise<IpPool | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.updateTable('cloud_ip_pools').set({ ...changes, updated_at: sql`now()` }).where('id', '=', id)
      .returningAll().executeTakeFirst();
    if (row) await recordAudit(trx, { actor, category: 'lifecycle', action: 'ip_pool.updated', details: { id, changes } });
    return row && toPool(row);
  });
}

export async function listAllocations(db: Kysely<Database>, poolId: string): Promise<IpAllocation[]> {
  const rows = await db.selectFrom('cloud_ip_allocations').selectAll().where('pool_id', '=', poolId)
    .orderBy('address').execute();
  return rows.map((row) => ({ ...row, address: plainAddress(row.address) }));
}

/** No free address is left in any pool that could serve the pod. */
export class PoolExhaustedError extends AppError {
  constructor(family: 4 | 6, node: string | null) {
    super(409, 'resource_unavailable', `no free IPv${family} address in any active pool${node ? ` serving ${node}` : ''}`,
      { family, node });
  }
}

export interface AllocationRequest {
  podId: string;
  tenantId: string;
  family: 4 | 6;
  /** The Proxmox node the pod runs on: only pools serving it (or every node) qualify. */
  node: string | null;
  /** The tenant's IPv4 quota (null: unlimited): an IPv4 address beyond it is refused, never allocated. */
  ipv4Limit: number | null;
}

/**
 * Refuses an IPv4 address the tenant's quota has no room for (an admin may have lowered it since the order). The
 * tenant row is locked as orders lock it, so the tenant's allocations queue and each counts those before it. The pod
 * row is key-shared first (the new allocation's foreign key needs that anyway): orders lock a pod, then its tenant,
 * so taking them in that order queues behind such an order instead of deadlocking with it.
 */
async function assertIpv4Room(trx: Kysely<Database>, request: AllocationRequest, limit: number): Promise<void> {
  const { podId, tenantId } = request;
  await trx.selectFrom('cloud_pods').select('id').where('id', '=', podId).forKeyShare().execute();
  await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).forUpdate().execute();
  const { held } = await trx.selectFrom('cloud_ip_allocations').select(sql<number>`count(*)::int`.as('held'))
    .where('tenant_id', '=', tenantId).where('family', '=', 4).executeTakeFirstOrThrow();
  if (held + 1 > limit) throw new QuotaExceededError([{ resource: 'ipv4', requested: 1, used: held, limit }]);
}

/**
 * Gives the pod the lowest free address of the first active pool that serves its node, inside the caller's
 * transaction. The pool row is locked while the address is chosen, so concurrent allocations queue instead of
 * racing; the unique (pool, address) constraint stands behind it. A pod that already holds an address of the
 * family keeps it (allocation is idempotent). A new IPv4 address must fit the tenant's quota.
 */
export async function allocateAddress(trx: Kysely<Database>, request: AllocationRequest): Promise<IpAllocation> {
  const held = await trx.selectFrom('cloud_ip_allocations').selectAll().where('pod_id', '=', request.podId)
    .where('family', '=', request.family).executeTakeFirst();
  if (held) return { ...held, address: plainAddress(held.address) };
  if (request.family === 4 && request.ipv4Limit !== null) await assertIpv4Room(trx, request, request.ipv4Limit);

  let pools = trx.selectFrom('cloud_ip_pools').selectAll().where('family', '=', request.family)
    .where('is_active', '=', true).orderBy('name');
  if (request.node) {
    pools = pools.where((eb) => eb.or([eb(sql`cardinality(nodes)`, '=', 0), eb(sql.val(request.node), '=', eb.fn.any('nodes'))]));
  }
  for (const pool of await pools.execute()) {
    await trx.selectFrom('cloud_ip_pools').select('id').where('id', '=', pool.id).forUpdate().execute();
    // Candidates: the range start, and the address after each one taken (or after the gateway); the lowest free
    // candidate inside the range is the lowest free address.
    const free = await sql<{ address: string }>`
      select min(c.candidate)::text as address
        from (select ${pool.range_start}::inet as candidate
              union all select ${pool.gateway}::inet + 1
              union all select a.address + 1 from cloud_ip_allocations a where a.pool_id = ${pool.id}) c
       where c.candidate between ${pool.range_start}::inet and ${pool.range_end}::inet
         and c.candidate <> ${pool.gateway}::inet
         and not exists (select 1 from cloud_ip_allocations x where x.pool_id = ${pool.id} and x.address = c.candidate)
    `.execute(trx);
    const address = free.rows[0]?.address;
    if (!address) continue;
    const row = await trx.insertInto('cloud_ip_allocations').values({
      pool_id: pool.id, address, tenant_id: request.tenantId, pod_id: request.podId, family: request.family,
    }).returningAll().executeTakeFirstOrThrow();
    return { ...row, address: plainAddress(row.address) };
  }
  throw new PoolExhaustedError(request.family, request.node);
}

/** Frees every address a pod holds; called when its VM is gone. */
export async function releaseAddresses(trx: Kysely<Database>, podId: string): Promise<string[]> {
  const released = await trx.deleteFrom('cloud_ip_allocations').where('pod_id', '=', podId).returning('address')
    .execute();
  return released.map((r) => plainAddress(r.address));
}

/** The pool an address belongs to, with what a pod's network configuration needs. */
export async function allocationsOfPod(db: Kysely<Database>, podId: string)
  : Promise<Array<IpAllocation & { pool: IpPool }>> {
  const rows = await db.selectFrom('cloud_ip_allocations as a').innerJoin('cloud_ip_pools as p', 'p.id', 'a.pool_id')
    .selectAll('a').select(sql<IpPool>`to_jsonb(p.*)`.as('pool')).where('a.pod_id', '=', podId).orderBy('a.family')
    .execute();
  return rows.map((row) => ({ ...row, address: plainAddress(row.address), pool: toPool(row.pool) }));
}

export { plainAddress };
