import { randomBytes } from 'node:crypto';
import type { Permission } from '../../src/auth/permissions.ts';
import { issueApiToken, type ApiTokenView } from '../../src/auth/tokens.ts';
import type { Db } from '../../src/db/database.ts';
import { systemActor } from '../../src/observability/audit.ts';
import { createPlan, type Plan, type PlanFields } from '../../src/tenancy/plans.ts';
import { createTemplate, type Template, type TemplateFields } from '../../src/tenancy/templates.ts';
import { createTenant, type Tenant } from '../../src/tenancy/tenants.ts';

const testActor = systemActor('test');

export async function aTenant(db: Db, slug = `t-${randomBytes(4).toString('hex')}`): Promise<Tenant> {
  return createTenant(db, { slug, name: `Tenant ${slug}` }, testActor);
}

export interface TokenSpec {
  tenant?: Tenant | null;
  permissions?: Permission[];
  admin?: boolean;
  expiresAt?: Date | null;
  name?: string;
}

/** Issues a token the way the CLI does and returns the plain secret with its record. */
export async function aToken(db: Db, spec: TokenSpec = {}): Promise<{ token: string; record: ApiTokenView }> {
  return issueApiToken(db, {
    name: spec.name ?? 'test token',
    tenantId: spec.tenant?.id ?? null,
    permissions: spec.permissions ?? [],
    isAdmin: spec.admin ?? false,
    expiresAt: spec.expiresAt ?? null,
  }, testActor);
}

let serial = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++serial}`;

/** A plan; unless told, it sells as many pods as IPv4 addresses (every pod holds one). */
export async function aPlan(db: Db, fields: Partial<PlanFields> = {}): Promise<Plan> {
  return createPlan(db, {
    code: unique('plan'), name: 'Test plan', cpu_cores: 2, memory_mb: 4096, disk_gb: 50, bandwidth_gb: 1000,
    ipv4_count: 1, pods_count: fields.ipv4_count ?? 1, price_monthly: '10.00', ...fields,
  }, testActor);
}

export async function aTemplate(db: Db, fields: Partial<TemplateFields> = {}): Promise<Template> {
  return createTemplate(db, {
    code: unique('tpl'), name: 'Test template', type: 'os', proxmox_template_vmid: 9000, storage_pool: 'local-lvm',
    network_bridge: 'vmbr0', ...fields,
  }, testActor);
}

export interface PodSpec {
  tenant: Tenant;
  template: Template;
  cpu_cores?: number;
  memory_mb?: number;
  disk_gb?: number;
  /** Addresses as the pod controller records them from the guest agent. */
  ip_addresses?: string[];
}

/** A pod row as the API will create it (the controller is not involved). */
export async function aPod(db: Db, spec: PodSpec) {
  return db.insertInto('cloud_pods').values({
    tenant_id: spec.tenant.id, template_id: spec.template.id, name: unique('pod'),
    cpu_cores: spec.cpu_cores ?? 1, memory_mb: spec.memory_mb ?? 1024, disk_gb: spec.disk_gb ?? 10,
    ...(spec.ip_addresses ? { ip_addresses: JSON.stringify(spec.ip_addresses) } : {}),
  }).returningAll().executeTakeFirstOrThrow();
}
