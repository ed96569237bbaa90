import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Actor } from '../observability/audit.ts';
import { createPool, listPools } from './ip-pools.ts';
import { createPlan, findPlan, type PlanFields } from './plans.ts';
import { listSubscriptions, subscribe } from './subscriptions.ts';
import { createTemplate, findTemplate, type TemplateFields } from './templates.ts';

/** The platform's catalogue in `cloudpods dev`: plans, templates on the simulator's template VMIDs, an IP pool. */
export const devPlans: PlanFields[] = [
  { code: 'cloud-basic', name: 'Cloud Basic', description: 'A small pack: 2 cores, 4 GB memory, 80 GB disk.',
    cpu_cores: 2, memory_mb: 4096, disk_gb: 80, bandwidth_gb: 2000, ipv4_count: 1, pods_count: 1,
    price_monthly: '12.00' },
  { code: 'cloud-plus', name: 'Cloud Plus', description: 'For growing sites: 4 cores, 8 GB memory, 160 GB disk.',
    cpu_cores: 4, memory_mb: 8192, disk_gb: 160, bandwidth_gb: 4000, ipv4_count: 2, pods_count: 2,
    price_monthly: '24.00' },
  { code: 'cloud-pro', name: 'Cloud Pro', description: 'For production fleets: 8 cores, 16 GB memory, 320 GB disk.',
    cpu_cores: 8, memory_mb: 16384, disk_gb: 320, bandwidth_gb: 8000, ipv4_count: 4, pods_count: 4,
    price_monthly: '48.00' },
];

/** No preferred node: the templates sit on shared storage, so pods spread to the least-loaded node. */
const simulator = { node: null, storage: 'local-lvm', bridge: 'vmbr0', debian: 9000, ubuntu: 9001 };

export const devTemplates: TemplateFields[] = [
  { code: 'ubuntu-24.04', name: 'Ubuntu 24.04 LTS', type: 'os', proxmox_template_vmid: simulator.ubuntu,
    default_node: simulator.node, storage_pool: simulator.storage, network_bridge: simulator.bridge,
    tags: ['ubuntu', 'lts'], description: 'Plain Ubuntu server with cloud-init.' },
  { code: 'debian-12', name: 'Debian 12', type: 'os', proxmox_template_vmid: simulator.debian,
    default_node: simulator.node, storage_pool: simulator.storage, network_bridge: simulator.bridge,
    tags: ['debian'], description: 'Plain Debian server with cloud-init.' },
  { code: 'wordpress', name: 'WordPress', type: 'app', app_stack: 'wordpress', proxmox_template_vmid: simulator.ubuntu,
    default_node: simulator.node, storage_pool: simulator.storage, network_bridge: simulator.bridge,
    minimum_plan_code: 'cloud-basic', tags: ['cms', 'php'], description: 'WordPress on nginx, PHP-FPM and MariaDB.' },
  { code: 'laravel', name: 'Laravel', type: 'app', app_stack: 'laravel', proxmox_template_vmid: simulator.ubuntu,
    default_node: simulator.node, storage_pool: simulator.storage, network_bridge: simulator.bridge,
    minimum_plan_code: 'cloud-plus', tags: ['php', 'framework'], description: 'Laravel with PostgreSQL or MySQL.' },
  { code: 'node', name: 'Node.js', type: 'app', app_stack: 'node', proxmox_template_vmid: simulator.ubuntu,
    default_node: simulator.node, storage_pool: simulator.storage, network_bridge: simulator.bridge,
    minimum_plan_code: 'cloud-basic', tags: ['javascript'], description: 'Node.js LTS with an optional database.' },
];

/** TEST-NET-1 (RFC 5737): documentation addresses, never routed, so a dev pool cannot collide with a real one. */
const devPool = { name: 'dev-v4', family: 4 as const, cidr: '192.0.2.0/24', gateway: '192.0.2.1',
  range_start: '192.0.2.10', range_end: '192.0.2.250', bridge: 'vmbr0', nameservers: ['192.0.2.53'] };

/** Creates what is missing and leaves what exists, so every `cloudpods dev` start may call it. */
export async function seedDevCatalogue(db: Kysely<Database>, demoTenantId: string, actor: Actor): Promise<void> {
  for (const plan of devPlans) if (!(await findPlan(db, plan.code))) await createPlan(db, plan, actor);
  for (const template of devTemplates) {
    if (!(await findTemplate(db, template.code))) await createTemplate(db, template, actor);
  }
  if (!(await listPools(db)).some((p) => p.name === devPool.name)) await createPool(db, devPool, actor);
  if ((await listSubscriptions(db, demoTenantId)).length === 0) {
    const plus = (await findPlan(db, 'cloud-plus'))!;
    await subscribe(db, { tenantId: demoTenantId, planId: plus.id, quantity: 1 }, actor);
  }
}
