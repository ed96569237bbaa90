import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { dnsNameInput } from '../../dns/label.ts';
import { createDnsRecords, deleteDnsRecords } from '../../dns/orders.ts';
import { recordsOfPod } from '../../dns/records.ts';
import { recordView } from '../../dns/view.ts';
import { canSeeTenant, principalOf, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { notFound } from '../errors.ts';
import { assertTenantOfPod, orderScope, tenantField } from '../tenant-scope.ts';
import { readJson, readParam } from '../validation.ts';

const createBody = z.strictObject({
  /** Platform tokens may name the pod's tenant, as in every create call. */
  tenant: tenantField,
  /** A full name inside the zone, or a single label completed with it. */
  hostname: dnsNameInput,
  /** Without one, a dotted hostname goes in the longest served zone the tenant may use that contains it. */
  zone: dnsNameInput.optional(),
  /** Only the pod's IPv4 (A) or IPv6 (AAAA) addresses; default both. */
  type: z.enum(['A', 'AAAA'], { error: 'expected A or AAAA' }).optional(),
  ttl: z.number({ error: 'expected a number' }).int('expected a whole number').min(30, 'expected 30 or more')
    .max(86_400, 'expected at most 86400').optional(),
  ptr: z.boolean({ error: 'expected true or false' }).default(false),
});

/**
 * DNS names of one pod (spec 8): the pod's own records and extra names in zones the platform serves. Writes are
 * desired state and 202 (src/dns/orders.ts): the dns-record controller makes PowerDNS serve them and reports status.
 */
export function dnsRecordRoutes({ db, presence, jobs, settings, pdns }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const orders = { db, engine: jobs, settings, pdns };

  async function podFromPath(c: Context<AppEnv>) {
    const id = readParam(c, 'podId', z.uuid(), 'pod');
    const pod = await db.selectFrom('cloud_pods').select(['id', 'tenant_id']).where('id', '=', id).executeTakeFirst();
    if (!pod || !canSeeTenant(principalOf(c), pod.tenant_id)) throw notFound('pod');
    return pod;
  }

  app.get('/', requirePermission('cloudpods.view'), async (c) => {
    const pod = await podFromPath(c);
    return c.json({ records: (await recordsOfPod(db, pod.id)).map(recordView) });
  });

  app.post('/', requirePermission('cloudpods.manage'), idempotent({ db, presence }), async (c) => {
    const pod = await podFromPath(c);
    const { tenant, ...body } = await readJson(c, createBody);
    await assertTenantOfPod(c, db, tenant, pod);
    const records = await createDnsRecords(orders, orderScope(c), { podId: pod.id, ...body });
    return c.json({ records: records.map(recordView) }, 202);
  });

  app.delete('/:id', requirePermission('cloudpods.manage'), async (c) => {
    const pod = await podFromPath(c);
    const id = readParam(c, 'id', z.uuid(), 'DNS record');
    const [record] = await deleteDnsRecords(orders, orderScope(c), { podId: pod.id, id });
    return c.json({ record: recordView(record!) }, 202);
  });

  return app;
}
