import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { volumeStatuses, type Permission } from '../../db/schema.ts';
import { dnsLabelSchema } from '../../dns/label.ts';
import { createVolume, deleteVolume, resizeVolume, setAttached, type VolumeOrderDeps, type VolumeRef } from '../../volumes/orders.ts';
import { findVolume, listVolumesOfPod } from '../../volumes/store.ts';
import { volumeView } from '../../volumes/view.ts';
import { canSeeTenant, principalOf, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { ApiError, notFound } from '../errors.ts';
import { offsetOf, paginationMeta, paginationQuery } from '../pagination.ts';
import { assertTenantOfPod, orderScope, tenantField } from '../tenant-scope.ts';
import { readJson, readParam, readQuery } from '../validation.ts';

const sizeGb = z.number({ error: 'expected a number' }).int('expected a whole number').min(1, 'expected 1 or more')
  .max(65_536, 'expected at most 65536');
/** A PVE storage identifier (pve-storage-id). */
const storagePool = z.string().regex(/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i, 'expected a Proxmox storage id').max(100);

/** Platform tokens may name the pod's tenant, as in every create call. */
const createBody = z.strictObject({ tenant: tenantField, name: dnsLabelSchema, size_gb: sizeGb, storage_pool: storagePool.optional() });
const resizeBody = z.strictObject({ size_gb: sizeGb });
const listQuery = z.strictObject({
  ...paginationQuery,
  status: z.enum(volumeStatuses, { error: `expected one of ${volumeStatuses.join(', ')}` }).optional(),
});

/** Route guard: the token must hold at least one of these permissions. */
function requireAnyPermission(...accepted: Permission[]): MiddlewareHandler<AppEnv> {
  return async function checkAnyPermission(c, next) {
    const { permissions } = principalOf(c);
    if (!accepted.some((p) => permissions.has(p))) {
      throw new ApiError(403, 'forbidden', `missing permission: one of ${accepted.join(', ')}`, { missing: accepted });
    }
    await next();
  };
}

/**
 * Volumes of one pod (spec 7), under `/api/cloud-pods/:podId/volumes`. Writes are desired state and answer 202:
 * the volume controller creates, attaches, detaches, resizes and destroys the disks and reports status. A volume
 * from Kubernetes changes only there (the orders answer 409 managed_by_kubernetes); its status stays readable here.
 */
export function volumeRoutes({ db, presence, jobs, quotas, cluster }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const deps: VolumeOrderDeps = { db, engine: jobs, quotas, cluster };
  const view = requirePermission('cloudpods.view');
  const manage = requireAnyPermission('cloudpods.volumes.manage', 'cloudpods.manage');
  const replayable = idempotent({ db, presence });

  /** The pod in the path, visible to the caller (another tenant's pod is 404). */
  async function podFromPath(c: Context<AppEnv>) {
    const id = readParam(c, 'podId', z.uuid(), 'pod');
    const pod = await db.selectFrom('cloud_pods').select(['id', 'tenant_id']).where('id', '=', id).executeTakeFirst();
    if (!pod || !canSeeTenant(principalOf(c), pod.tenant_id)) throw notFound('pod');
    return pod;
  }

  const volumeId = (c: Context<AppEnv>) => readParam(c, 'id', z.uuid(), 'volume');

  /** The volume in the path, of the pod in the path. */
  const volumeOf = async (c: Context<AppEnv>): Promise<VolumeRef> =>
    ({ podId: (await podFromPath(c)).id, id: volumeId(c) });

  app.get('/', view, async (c) => {
    const pod = await podFromPath(c);
    const query = readQuery(c, listQuery);
    const { volumes, total } = await listVolumesOfPod(db, pod.id, { status: query.status },
      { limit: query.per_page, offset: offsetOf(query) });
    return c.json({ volumes: volumes.map(volumeView), meta: paginationMeta(query, total) });
  });

  app.get('/:id', view, async (c) => {
    const pod = await podFromPath(c);
    const volume = await findVolume(db, volumeId(c));
    if (!volume || volume.pod_id !== pod.id) throw notFound('volume');
    return c.json({ volume: volumeView(volume) });
  });

  app.post('/', manage, replayable, async (c) => {
    const pod = await podFromPath(c);
    const { tenant, ...body } = await readJson(c, createBody);
    await assertTenantOfPod(c, db, tenant, pod);
    const volume = await createVolume(deps, orderScope(c), { podId: pod.id, ...body });
    return c.json({ volume: volumeView(volume) }, 202);
  });

  for (const action of ['attach', 'detach'] as const) {
    app.post(`/:id/${action}`, manage, replayable, async (c) => {
      const volume = await setAttached(deps, orderScope(c), await volumeOf(c), action === 'attach');
      return c.json({ volume: volumeView(volume) }, 202);
    });
  }

  app.post('/:id/resize', manage, replayable, async (c) => {
    const volume = await volumeOf(c);
    const body = await readJson(c, resizeBody);
    const resized = await resizeVolume(deps, orderScope(c), volume, body.size_gb);
    return c.json({ volume: volumeView(resized) }, 202);
  });

  app.delete('/:id', manage, async (c) => {
    const volume = await deleteVolume(deps, orderScope(c), await volumeOf(c));
    return c.json({ volume: volume ? volumeView(volume) : null }, 202);
  });

  return app;
}
