import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { DnsRecordType } from '../../db/schema.ts';
import { recordAddress } from '../../dns/addresses.ts';
import { enqueueDnsReconciles } from '../../dns/enqueue.ts';
import { isWithinZone, parseHostname } from '../../dns/names.ts';
import { findRecord, insertRecords, markForDeletion, nameClaimedByOthers, recordsOfPod } from '../../dns/records.ts';
import { recordView } from '../../dns/view.ts';
import { platformServesZone, tenantMayUseZone } from '../../dns/zones.ts';
import { recordAudit } from '../../observability/audit.ts';
import { findTenant } from '../../tenancy/tenants.ts';
import { canSeeTenant, principalOf, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { AppError } from '../../errors.ts';
import { ApiError, notFound, validationError } from '../errors.ts';
import { readJson, readParam } from '../validation.ts';

const createBody = z.strictObject({
  /** A full name inside the zone, or a single label completed with it. */
  hostname: z.string().min(1, 'must not be empty').max(253, 'at most 253 characters'),
  zone: z.string().min(1, 'must not be empty').max(253, 'at most 253 characters'),
  /** Only the pod's IPv4 (A) or IPv6 (AAAA) addresses; default both. */
  type: z.enum(['A', 'AAAA'], { error: 'expected A or AAAA' }).optional(),
  ttl: z.number({ error: 'expected a number' }).int('expected a whole number').min(30, 'expected 30 or more')
    .max(86_400, 'expected at most 86400').optional(),
  ptr: z.boolean({ error: 'expected true or false' }).default(false),
});

/**
 * DNS names of one pod (spec 8): the pod's own records and extra names in zones the platform serves. Writes are
 * desired state and 202: the dns-record controller makes PowerDNS serve them and reports status.
 */
export function dnsRecordRoutes({ db, jobs, settings, pdns }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  async function podFromPath(c: Context<AppEnv>) {
    const id = readParam(c, 'podId', z.uuid(), 'pod');
    const pod = await db.selectFrom('cloud_pods').select(['id', 'tenant_id', 'ip_addresses', 'deletion_requested_at'])
      .where('id', '=', id).executeTakeFirst();
    if (!pod || !canSeeTenant(principalOf(c), pod.tenant_id)) throw notFound('pod');
    return pod;
  }

  app.get('/', requirePermission('cloudpods.view'), async (c) => {
    const pod = await podFromPath(c);
    return c.json({ records: (await recordsOfPod(db, pod.id)).map(recordView) });
  });

  app.post('/', requirePermission('cloudpods.manage'), async (c) => {
    const pod = await podFromPath(c);
    const body = await readJson(c, createBody);
    const zone = parseHostname(body.zone);
    if ('problem' in zone) throw validationError([{ name: 'zone', messages: [zone.problem] }]);
    const host = parseHostname(body.hostname);
    if ('problem' in host) throw validationError([{ name: 'hostname', messages: [host.problem] }]);
    // A single label is completed with the zone; a name with dots must already be inside it.
    const hostname = host.name.includes('.') ? host.name : `${host.name}.${zone.name}`;
    const full = parseHostname(hostname);
    if ('problem' in full) throw validationError([{ name: 'hostname', messages: [full.problem] }]);
    if (!isWithinZone(hostname, zone.name)) {
      throw validationError([{ name: 'hostname', messages: [`must be a label, or a name inside ${zone.name}`] }]);
    }

    if (!(await platformServesZone(settings, pdns, zone.name))) {
      throw validationError([{ name: 'zone', messages: [`${zone.name} is not a zone this platform serves`] }]);
    }
    const principal = principalOf(c);
    const tenant = (await findTenant(db, pod.tenant_id))!;
    if (!principal.isAdmin && !(await tenantMayUseZone(settings, tenant, zone.name))) {
      throw new ApiError(403, 'forbidden', `tenant ${tenant.slug} may not use the zone ${zone.name}`, { zone: zone.name });
    }
    if (pod.deletion_requested_at) throw new ApiError(409, 'conflict', 'the pod is being deleted');
    const addresses = pod.ip_addresses.map(recordAddress).filter((a) => a !== null)
      .filter((a) => !body.type || a.type === body.type);
    if (addresses.length === 0) {
      const family = body.type === 'AAAA' ? 'IPv6 ' : body.type === 'A' ? 'IPv4 ' : '';
      throw new ApiError(409, 'conflict', `the pod has no ${family}address yet`);
    }

    const ttl = body.ttl ?? await settings.getNumber('cloudpods.dns.default_ttl');
    const records = await db.transaction().execute(async (trx) => {
      if (await nameClaimedByOthers(trx, hostname, pod.tenant_id)) {
        throw new ApiError(409, 'conflict', `${hostname} is already used by another tenant`);
      }
      const existing = (await recordsOfPod(trx, pod.id))
        .filter((r) => r.deletion_requested_at === null && r.hostname === hostname);
      if (existing.length > 0) throw new ApiError(409, 'conflict', `the pod already has records named ${hostname}`);
      const rows = await insertRecords(trx, addresses.map((a) => ({
        tenant_id: pod.tenant_id, pod_id: pod.id, zone_name: zone.name, hostname, ip_address: a.ip,
        type: a.type as DnsRecordType, origin: 'api' as const, ptr: body.ptr, ttl,
      })));
      await recordAudit(trx, { actor: principal.actor, category: 'dns', action: 'dns.record_added', tenantId: pod.tenant_id,
        podId: pod.id, requestId: c.get('requestId'), details: { hostname, zone: zone.name, ids: rows.map((r) => r.id) } });
      await enqueueDnsReconciles(jobs, trx, rows.map((r) => r.id));
      return rows;
    });
    return c.json({ records: records.map(recordView) }, 202);
  });

  app.delete('/:id', requirePermission('cloudpods.manage'), async (c) => {
    const pod = await podFromPath(c);
    const id = readParam(c, 'id', z.uuid(), 'DNS record');
    const record = await findRecord(db, id);
    if (!record || record.pod_id !== pod.id) throw notFound('DNS record');
    if (record.managed_by === 'kubernetes') {
      throw new AppError(409, 'managed_by_kubernetes',
        `this record is managed through Kubernetes (${record.kube_namespace}/${record.kube_name}): delete it there`);
    }
    if (record.origin === 'pod') {
      throw new ApiError(409, 'conflict', 'this record follows the pod\'s hostname; change or delete the pod instead');
    }
    await db.transaction().execute(async (trx) => {
      const marked = await markForDeletion(trx, [id]);
      if (marked.length === 0) return;
      await recordAudit(trx, { actor: principalOf(c).actor, category: 'dns', action: 'dns.record_deleted',
        tenantId: pod.tenant_id, podId: pod.id, requestId: c.get('requestId'), details: { id, hostname: record.hostname } });
      await enqueueDnsReconciles(jobs, trx, [id]);
    });
    return c.json({ record: recordView((await findRecord(db, id)) ?? record) }, 202);
  });

  return app;
}
