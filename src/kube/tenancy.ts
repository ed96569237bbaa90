import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { findTenant, type Tenant } from '../tenancy/tenants.ts';
import { KubeApiError, type KubeClient } from './client.ts';
import { tenantLabel } from './crds/schema.ts';
import type { KubeObject, ResourceMetadata } from './resource.ts';

/** A namespace belongs to the tenant named by its `cloudpods.mpanel.io/tenant` label. */

export type NamespaceTenant = { tenant: Tenant } | { unknown: string };

/** What the bridge reads of a Namespace. */
export interface Namespace {
  metadata: Pick<ResourceMetadata, 'name' | 'labels'>;
}

/** The tenant a label value names, or why there is none. */
export async function tenantOfLabel(db: Kysely<Database>, namespace: string, slug: string | undefined)
  : Promise<NamespaceTenant> {
  if (!slug) return { unknown: `namespace ${namespace} has no ${tenantLabel} label` };
  const tenant = await findTenant(db, slug);
  if (!tenant || tenant.slug !== slug) return { unknown: `no tenant ${slug} (label ${tenantLabel} of namespace ${namespace})` };
  return { tenant };
}

/**
 * The tenant labels of every namespace, kept by a namespace watch while the bridge runs, so a sync costs no
 * request; a relabelled namespace is reported (`onRelabel`) so its resources are synced at once. Before the
 * first list it reads the namespace directly.
 */
export class NamespaceTenants {
  readonly #labels = new Map<string, string | undefined>();
  #listed = false;
  readonly #client: KubeClient;
  readonly #db: Kysely<Database>;
  constructor(client: KubeClient, db: Kysely<Database>) {
    this.#client = client;
    this.#db = db;
  }

  async tenantOf(namespace: string): Promise<NamespaceTenant> {
    const slug = this.#listed ? this.#labels.get(namespace) : await this.#read(namespace);
    return tenantOfLabel(this.#db, namespace, slug);
  }

  async #read(namespace: string): Promise<string | undefined> {
    try {
      return (await this.#client.request('GET', `/api/v1/namespaces/${namespace}`)).metadata?.labels?.[tenantLabel];
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The whole set after a (re)list: every namespace whose label differs from what was known is returned. */
  replace(namespaces: readonly Namespace[]): string[] {
    const before = new Map(this.#labels);
    this.#labels.clear();
    for (const ns of namespaces) this.#labels.set(ns.metadata.name, ns.metadata.labels?.[tenantLabel]);
    const changed = [...new Set([...before.keys(), ...this.#labels.keys()])]
      .filter((name) => this.#listed && before.get(name) !== this.#labels.get(name));
    this.#listed = true;
    return changed;
  }

  /** One watch event; true when the namespace's tenant label changed. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', namespace: Namespace): boolean {
    const name = namespace.metadata.name;
    const before = this.#labels.get(name);
    if (type === 'DELETED') this.#labels.delete(name);
    else this.#labels.set(name, namespace.metadata.labels?.[tenantLabel]);
    return before !== this.#labels.get(name);
  }
}

/**
 * A resource's row stays with the tenant it was ordered for: relabelling its namespace does not move a VM between
 * tenants (quotas, plans, billing). While the label names another tenant (or none), this says why, and the
 * bridge holds the resource's spec changes until the label is set back or the resource is re-created.
 */
export async function tenantMoved(db: Kysely<Database>, rowTenantId: string, resource: KubeObject, owner: NamespaceTenant)
  : Promise<string | null> {
  if ('tenant' in owner && owner.tenant.id === rowTenantId) return null;
  const bound = await findTenant(db, rowTenantId);
  const now = 'tenant' in owner ? `now belongs to tenant ${owner.tenant.slug}` : `no longer names a tenant (${owner.unknown})`;
  return `namespace ${resource.metadata.namespace} ${now}; this ${resource.kind} stays with tenant ${bound?.slug ?? rowTenantId}`
    + ' and its spec changes wait: set the label back, or delete and re-apply the resource to move it';
}
