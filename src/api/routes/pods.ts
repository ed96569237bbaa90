import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { podStatuses } from '../../db/schema.ts';
import { healthCheckSchema } from '../../health/probe-spec.ts';
import { dnsLabelSchema, dnsNameInput } from '../../dns/label.ts';
import { changePod, createPod, deletePod, requestReboot, type PodOrderDeps } from '../../pods/orders.ts';
import { requestHeal } from '../../pods/heal.ts';
import { findPod, listPods } from '../../pods/store.ts';
import { podView } from '../../pods/view.ts';
import { canSeeTenant, principalOf, requireAdmin, requirePermission } from '../auth.ts';
import type { ApiDeps, AppEnv } from '../context.ts';
import { idempotent } from '../idempotency.ts';
import { notFound } from '../errors.ts';
import { offsetOf, paginationMeta, paginationQuery } from '../pagination.ts';
import { orderScope, tenantField, tenantFromQuery, tenantOfNewObject } from '../tenant-scope.ts';
import { readJson, readParam, readQuery } from '../validation.ts';

const sshKey = z.string().max(16_384).regex(
  /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/,
  'expected an OpenSSH public key (type, key and optional comment on one line)');
const whole = (min: number, max: number) => z.number({ error: 'expected a number' }).int('expected a whole number')
  .min(min, `expected ${min} or more`).max(max, `expected at most ${max}`);
const resources = { cpu_cores: whole(1, 128), memory_mb: whole(256, 1_048_576), disk_gb: whole(1, 65_536) };
const powerState = z.enum(['running', 'stopped'], { error: 'expected running or stopped' });

const createBody = z.strictObject({
  tenant: tenantField,
  name: dnsLabelSchema,
  template: z.string().min(1, 'must not be empty').max(63),
  ...resources,
  hostname: dnsNameInput.optional(),
  zone: dnsNameInput.optional(),
  ssh_keys: z.array(sshKey).max(20, 'at most 20 keys').default([]),
  power_state: powerState.default('running'),
  app_options: z.record(z.string(), z.unknown()).default({}),
  node: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/, 'expected a Proxmox node name').optional(),
  health_check: healthCheckSchema.nullable().optional(),
});

const patchBody = z.strictObject({
  cpu_cores: resources.cpu_cores.optional(), memory_mb: resources.memory_mb.optional(),
  disk_gb: resources.disk_gb.optional(), power_state: powerState.optional(),
  /** null removes the pod's name (and its records). */
  hostname: dnsNameInput.nullable().optional(), zone: dnsNameInput.nullable().optional(),
  /** null removes the probe. */
  health_check: healthCheckSchema.nullable().optional(),
}).refine((v) => Object.keys(v).length > 0, 'name at least one field to change');

const listQuery = z.strictObject({
  ...paginationQuery,
  status: z.enum(podStatuses, { error: `expected one of ${podStatuses.join(', ')}` }).optional(),
  template: z.string().min(1).max(63).optional(),
  name: z.string().min(1).max(63).optional(),
  tenant: z.string().min(1).optional(),
});

/** CloudPods (spec and issue 7): desired state in, status out; the pod controller does the work. */
export function podRoutes({ db, presence, jobs, quotas, settings, pdns, cluster }: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const deps: PodOrderDeps = { db, engine: jobs, quotas, cluster, settings, pdns };
  const view = requirePermission('cloudpods.view');
  const manage = requirePermission('cloudpods.manage');
  const replayable = idempotent({ db, presence });

  async function visiblePod(c: Context<AppEnv>) {
    const pod = await findPod(db, readParam(c, 'id', z.uuid(), 'pod'));
    if (!pod || !canSeeTenant(principalOf(c), pod.tenant_id)) throw notFound('pod');
    return pod;
  }

  app.post('/', manage, replayable, async (c) => {
    const body = await readJson(c, createBody);
    const tenantId = (await tenantOfNewObject(c, db, body.tenant)).id;
    const pod = await createPod(deps, orderScope(c), { tenantId, name: body.name, templateCode: body.template,
      cpu_cores: body.cpu_cores, memory_mb: body.memory_mb, disk_gb: body.disk_gb, hostname: body.hostname,
      zone: body.zone, ssh_keys: body.ssh_keys, power_state: body.power_state, app_options: body.app_options,
      node: body.node, health_check: body.health_check });
    return c.json({ pod: podView(pod) }, 202);
  });

  app.get('/', view, async (c) => {
    const query = readQuery(c, listQuery);
    const principal = principalOf(c);
    const tenantId = query.tenant || !principal.isAdmin ? (await tenantFromQuery(c, db, query.tenant)).id : undefined;
    const { pods, total } = await listPods(db, { tenantId, status: query.status, templateCode: query.template,
      name: query.name }, { limit: query.per_page, offset: offsetOf(query) });
    return c.json({ pods: pods.map(podView), meta: paginationMeta(query, total) });
  });

  app.get('/:id', view, async (c) => c.json({ pod: podView(await visiblePod(c)) }));

  app.patch('/:id', manage, async (c) => {
    const id = (await visiblePod(c)).id;
    const body = await readJson(c, patchBody);
    const pod = await changePod(deps, orderScope(c), id, body);
    return c.json({ pod: podView(pod) }, 202);
  });

  app.delete('/:id', manage, async (c) => {
    const id = (await visiblePod(c)).id;
    const pod = await deletePod(deps, orderScope(c), id);
    return c.json({ pod: pod ? podView(pod) : null }, 202);
  });

  for (const action of ['start', 'stop', 'reboot'] as const) {
    app.post(`/:id/actions/${action}`, manage, replayable, async (c) => {
      const id = (await visiblePod(c)).id;
      const pod = action === 'reboot'
        ? await requestReboot(deps, orderScope(c), id)
        : await changePod(deps, orderScope(c), id, { power_state: action === 'start' ? 'running' : 'stopped' });
      return c.json({ pod: podView(pod) }, 202);
    });
  }

  // Auto-heal acts on the pod again after giving up (an admin's decision: it may reset the VM).
  app.post('/:id/actions/heal', requireAdmin(), manage, replayable, async (c) => {
    const id = (await visiblePod(c)).id;
    return c.json({ pod: podView(await requestHeal(deps, orderScope(c), id)) }, 202);
  });

  return app;
}
