import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { z } from 'zod';
import type { Condition, Database, PowerState } from '../db/schema.ts';
import type { ZoneSettings } from '../dns/zones.ts';
import { AppError, type RefusalReason } from '../errors.ts';
import { assertOwnedBy, ownershipColumns, type OrderScope } from '../front-door.ts';
import type { JobEngine } from '../jobs/engine.ts';
import { recordAudit } from '../observability/audit.ts';
import type { PowerDns } from '../powerdns/context.ts';
import { publishLifecycleEvent } from '../hooks/events.ts';
import { healthCheckSchema, sameProbe, type HealthCheck } from '../health/probe-spec.ts';
import { probeTargetRefusal } from '../health/probe-target.ts';
import { assertNodeExists } from '../proxmox/cluster-checks.ts';
import type { ClusterLookup } from '../proxmox/cluster-lookup.ts';
import { podKind } from './kind.ts';
import { TenantSuspendedError } from '../tenancy/errors.ts';
import type { CloudPodQuotasService } from '../tenancy/quotas.ts';
import { findTemplate, parseAppOptions, validateTemplateForTenant } from '../tenancy/templates.ts';
import { KeyedMutex } from '../util/mutex.ts';
import { askedName, podName } from './names.ts';
import { findPod, lockPod, type Pod, type PodRow } from './store.ts';

/** The writes of the pods' front doors (the REST API and the Kubernetes bridge): desired state plus its reconcile, atomically. */
export interface PodOrderDeps {
  db: Kysely<Database>;
  engine: JobEngine;
  quotas: CloudPodQuotasService;
  /** The cluster as the controller last saw it, for names that must exist there; null without Proxmox. */
  cluster: ClusterLookup | null;
  /** The zone rules read these; without PowerDNS a pod's name gets no records, so its zone is not checked. */
  settings: ZoneSettings;
  pdns: PowerDns | null;
}

/** A field of the order is wrong; `fields` names each, as the API's validation_error does. */
export class PodOrderError extends AppError {
  constructor(status: 400 | 409 | 422, code: string, fields: Array<{ name: string; messages: string[] }>,
    reason: RefusalReason) {
    super(status, code, fields.map((f) => `${f.name}: ${f.messages.join('; ')}`).join(', '), { fields }, reason);
  }
}

/** A nested object's zod issues as the API names fields: `app_options.database`, an unknown key by its name. */
function fieldsOfIssues(field: string, issues: readonly z.core.$ZodIssue[], unknownKey: string)
  : Array<{ name: string; messages: string[] }> {
  return issues.map((issue) => ({
    name: [field, ...issue.path, ...(issue.code === 'unrecognized_keys' ? [issue.keys.join(',')] : [])].join('.'),
    messages: [issue.code === 'unrecognized_keys' ? unknownKey : issue.message],
  }));
}

const podNotFound = () => new AppError(404, 'not_found', 'pod not found', undefined, 'PodNotFound');

export interface PodSpecInput {
  cpu_cores: number;
  memory_mb: number;
  disk_gb: number;
  hostname?: string | null;
  zone?: string | null;
  ssh_keys?: string[];
  power_state?: PowerState;
  app_options?: Record<string, unknown>;
  node?: string | null;
  /** The tenant's probe (src/health/probe-spec.ts); null or absent: none. */
  health_check?: unknown;
}

/** A new pod of `tenantId`; in a platform admin's scope (tenant null) any served zone may be named. */
export interface NewPodOrder extends PodSpecInput {
  tenantId: string;
  name: string;
  templateCode: string;
}

/**
 * Orders of one tenant take the tenant row's lock in turn; queueing them here first keeps a burst from holding a
 * pooled connection each while they wait (the row lock still orders them across processes).
 */
const tenantOrders = new KeyedMutex();

const pendingCondition = (generation: number): Condition => ({
  type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting for the controller',
  lastTransitionTime: new Date().toISOString(), observedGeneration: generation,
});

/**
 * The probe of an order, checked: its shape by the one schema (every field named, `health_check.port`), then its
 * target by the hook address guard (src/health/probe-target.ts). Read before any lock is taken.
 */
async function checkedHealthCheck(deps: PodOrderDeps, input: unknown, pod: { id: string | null; requestedNode: string | null })
  : Promise<HealthCheck | null> {
  if (input === undefined || input === null) return null;
  const parsed = healthCheckSchema.safeParse(input);
  if (!parsed.success) {
    throw new PodOrderError(400, 'validation_error', fieldsOfIssues('health_check', parsed.error.issues, 'unknown field'),
      'SpecInvalid');
  }
  const refusal = await probeTargetRefusal(deps.db, deps.settings, pod);
  if (refusal) {
    throw new PodOrderError(400, 'validation_error', [{ name: 'health_check', messages: [refusal] }], 'ProbeTargetRefused');
  }
  return parsed.data;
}

/**
 * Creates a pod in one transaction: template active and allowed by the tenant's plans, app options valid for its
 * stack, tenant active and within quota (one IPv4 address included), then the row, its audit entry and its
 * reconcile. Nothing is written when any check fails. A requested node must exist in the cluster, checked first
 * so no lock or connection is held while the cluster is read.
 */
export async function createPod(deps: PodOrderDeps, scope: OrderScope, order: NewPodOrder): Promise<Pod> {
  if (order.node) await assertNodeExists(deps.cluster, order.node);
  const healthCheck = await checkedHealthCheck(deps, order.health_check, { id: null, requestedNode: order.node ?? null });
  const { hostname, zone } = await podName(deps, scope.tenantId === null ? null : order.tenantId,
    { hostname: order.hostname ?? null, zone: order.zone ?? null });
  const id = await tenantOrders.run(order.tenantId, () => deps.db.transaction().execute(async (trx) => {
    const template = await findTemplate(trx, order.templateCode);
    if (!template || !template.is_active) {
      throw new PodOrderError(400, 'validation_error', [{ name: 'template', messages: ['no such active template'] }],
        'TemplateInvalid');
    }
    const options = parseAppOptions(template, order.app_options);
    if (!options.ok) {
      throw new PodOrderError(400, 'validation_error', fieldsOfIssues('app_options', options.error.issues, 'unknown option'),
        'SpecInvalid');
    }
    const clash = await trx.selectFrom('cloud_pods').select('id').where('tenant_id', '=', order.tenantId)
      .where('name', '=', order.name).where('deletion_requested_at', 'is', null).executeTakeFirst();
    if (clash) {
      throw new PodOrderError(409, 'conflict', [{ name: 'name', messages: ['a pod with this name exists'] }],
        'NameConflict');
    }
    await validateTemplateForTenant(trx, template, order.tenantId);
    await deps.quotas.reserve(trx, order.tenantId,
      { pods: 1, cpu_cores: order.cpu_cores, memory_mb: order.memory_mb, disk_gb: order.disk_gb, ipv4: 1 });
    const row = await trx.insertInto('cloud_pods').values({
      tenant_id: order.tenantId, name: order.name, template_id: template.id,
      cpu_cores: order.cpu_cores, memory_mb: order.memory_mb, disk_gb: order.disk_gb,
      hostname, zone,
      ssh_keys: JSON.stringify(order.ssh_keys ?? []), app_options: JSON.stringify(options.options),
      power_state: order.power_state ?? 'running', requested_node: order.node ?? null,
      health_check: healthCheck === null ? null : JSON.stringify(healthCheck),
      secret_seed: randomBytes(32).toString('base64url'),
      conditions: JSON.stringify([pendingCondition(1)]),
      ...ownershipColumns(scope.door),
    }).returning('id').executeTakeFirstOrThrow();
    await recordAudit(trx, { actor: scope.actor, category: 'lifecycle', action: 'pod.created', tenantId: order.tenantId,
      podId: row.id, requestId: scope.requestId, details: { name: order.name, template: template.code,
        cpu_cores: order.cpu_cores, memory_mb: order.memory_mb, disk_gb: order.disk_gb,
        power_state: order.power_state ?? 'running', health_check: healthCheck } });
    await publishLifecycleEvent(trx, deps.engine, { event: 'pod.pre_create', podId: row.id, tenantId: order.tenantId,
      data: { name: order.name, template: template.code, hostname } });
    await podKind.enqueue(deps.engine, trx, row.id);
    return row.id;
  }));
  return (await findPod(deps.db, id))!;
}

/** The pod, locked, when the scope's tenant has it and its front door may write it (`verb`: what a refusal says). */
async function lockOwned(trx: Kysely<Database>, scope: OrderScope, id: string, verb: string): Promise<PodRow> {
  const pod = await lockPod(trx, id);
  if (!pod || (scope.tenantId !== null && pod.tenant_id !== scope.tenantId)) throw podNotFound();
  assertOwnedBy(pod, scope.door, `pod ${pod.name}`, verb);
  return pod;
}

/** The pod for a spec change: it must exist for this tenant, be this front door's to change, and not be going away. */
async function lockForChange(trx: Kysely<Database>, scope: OrderScope, id: string): Promise<PodRow> {
  const pod = await lockOwned(trx, scope, id, 'change');
  if (pod.deletion_requested_at) {
    throw new AppError(409, 'conflict', `pod ${pod.name} is being deleted`, undefined, 'PodDeleting');
  }
  return pod;
}

async function assertTenantActive(trx: Kysely<Database>, tenantId: string): Promise<void> {
  const tenant = await trx.selectFrom('tenants').select(['slug', 'status']).where('id', '=', tenantId)
    .executeTakeFirstOrThrow();
  if (tenant.status === 'suspended') throw new TenantSuspendedError(tenant.slug);
}

export interface PodChange {
  cpu_cores?: number;
  memory_mb?: number;
  disk_gb?: number;
  power_state?: PowerState;
  /** null removes the name; its records follow (the pod controller converges them). */
  hostname?: string | null;
  zone?: string | null;
  /** The tenant's probe; null removes it. */
  health_check?: unknown;
}

/**
 * Changes a pod's resources, power state, name or probe. Growth is checked against the quota in the same transaction; a
 * disk never shrinks (422); starting needs an active tenant; a name follows the rule of new pods (a scope without
 * tenant: an admin, any served zone). The generation moves, so the controller acts.
 */
export async function changePod(deps: PodOrderDeps, scope: OrderScope, id: string, change: PodChange): Promise<Pod> {
  const { health_check: probeInput, ...fields } = change;
  const healthCheck = probeInput === undefined ? undefined : await checkedHealthCheck(deps, probeInput,
    { id, requestedNode: (await findPod(deps.db, id))?.requested_node ?? null });
  await deps.db.transaction().execute(async (trx) => {
    const pod = await lockForChange(trx, scope, id);
    if (fields.disk_gb !== undefined && fields.disk_gb < pod.disk_gb) {
      throw new PodOrderError(422, 'validation_error',
        [{ name: 'disk_gb', messages: [`a disk cannot shrink: it has ${pod.disk_gb} GB`] }], 'SpecInvalid');
    }
    const wanted: Omit<PodChange, 'health_check'> = fields.hostname === undefined && fields.zone === undefined ? fields
      : { ...fields, ...await podName(deps, scope.tenantId, askedName(pod, fields)) };
    const grow = (field: 'cpu_cores' | 'memory_mb' | 'disk_gb') => Math.max(0, (fields[field] ?? pod[field]) - pod[field]);
    const growth = { cpu_cores: grow('cpu_cores'), memory_mb: grow('memory_mb'), disk_gb: grow('disk_gb') };
    if (growth.cpu_cores || growth.memory_mb || growth.disk_gb) await deps.quotas.reserve(trx, pod.tenant_id, growth);
    if (fields.power_state === 'running' && pod.power_state !== 'running') await assertTenantActive(trx, pod.tenant_id);
    const changed: Record<string, { old: unknown; new: unknown }> = Object.fromEntries(Object.entries(wanted)
      .filter(([key, value]) => value !== undefined && value !== pod[key as keyof typeof wanted])
      .map(([key, value]) => [key, { old: pod[key as keyof typeof wanted], new: value }]));
    const probeChanged = healthCheck !== undefined && !sameProbe(healthCheck, pod.health_check);
    if (probeChanged) changed.health_check = { old: pod.health_check, new: healthCheck };
    if (Object.keys(changed).length === 0) return;
    // A new spec ends auto-heal's giving up (spec: until the spec changes).
    await trx.updateTable('cloud_pods').set({ ...wanted, heal_given_up_at: null,
      ...(probeChanged ? { health_check: healthCheck === null ? null : JSON.stringify(healthCheck) } : {}),
      generation: sql`generation + 1`, updated_at: sql`now()` })
      .where('id', '=', id).execute();
    await recordAudit(trx, { actor: scope.actor, category: 'lifecycle', action: 'pod.updated', tenantId: pod.tenant_id,
      podId: id, requestId: scope.requestId, details: { changes: changed } });
    await podKind.enqueue(deps.engine, trx, id);
  });
  return (await findPod(deps.db, id))!;
}

/** Asks for a reboot; the controller acknowledges it by setting `rebooted_at`. Only a running pod reboots. */
export async function requestReboot(deps: PodOrderDeps, scope: OrderScope, id: string): Promise<Pod> {
  await deps.db.transaction().execute(async (trx) => {
    const pod = await lockForChange(trx, scope, id);
    if (pod.power_state !== 'running' || pod.status !== 'active') {
      throw new AppError(409, 'conflict', `pod ${pod.name} is not running (${pod.status})`, undefined, 'PodNotRunning');
    }
    await trx.updateTable('cloud_pods').set({ reboot_requested_at: sql`now()`, heal_given_up_at: null,
      generation: sql`generation + 1`, updated_at: sql`now()` }).where('id', '=', id).execute();
    await recordAudit(trx, { actor: scope.actor, category: 'lifecycle', action: 'pod.reboot_requested',
      tenantId: pod.tenant_id, podId: id, requestId: scope.requestId });
    await podKind.enqueue(deps.engine, trx, id);
  });
  return (await findPod(deps.db, id))!;
}

/**
 * Marks a pod for deletion; the controller tears it down and removes the row. Asking twice changes nothing. The
 * phase is the controller's to write (views show `deleting` from deletion_requested_at meanwhile).
 */
export async function deletePod(deps: PodOrderDeps, scope: OrderScope, id: string): Promise<Pod> {
  await deps.db.transaction().execute(async (trx) => {
    const pod = await lockOwned(trx, scope, id, 'delete');
    if (pod.deletion_requested_at) return;
    await trx.updateTable('cloud_pods').set({ deletion_requested_at: sql`now()`, generation: sql`generation + 1`,
      updated_at: sql`now()` }).where('id', '=', id).execute();
    await recordAudit(trx, { actor: scope.actor, category: 'lifecycle', action: 'pod.deletion_requested',
      tenantId: pod.tenant_id, podId: id, requestId: scope.requestId, details: { name: pod.name, vmid: pod.vmid } });
    await publishLifecycleEvent(trx, deps.engine, { event: 'pod.pre_destroy', podId: id, tenantId: pod.tenant_id,
      data: { name: pod.name, vmid: pod.vmid, node: pod.node } });
    // Spec 7: a pod's volumes go with it. The controller marks them once the blocking pod.pre_destroy hooks have been
    // delivered (nothing is torn down before), and destroys the VM once they are gone.
    await podKind.enqueue(deps.engine, trx, id);
  });
  return (await findPod(deps.db, id))!;
}
