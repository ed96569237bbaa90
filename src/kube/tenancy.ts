import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { findTenant, type Tenant } from '../tenancy/tenants.ts';
import { KubeApiError, type KubeClient } from './client.ts';
import { tenantLabel } from './crds/schema.ts';

/**
 * A namespace belongs to the tenant named by its `cloudpods.mpanel.io/tenant` label. Read fresh on each lookup
 * (one GET): relabelling a namespace takes effect at the next resync without a namespace watch.
 */
export type NamespaceTenant = { tenant: Tenant } | { unknown: string };

export async function tenantOfNamespace(client: KubeClient, db: Kysely<Database>, namespace: string)
  : Promise<NamespaceTenant> {
  let labels: Record<string, string> = {};
  try {
    labels = (await client.request('GET', `/api/v1/namespaces/${namespace}`)).metadata?.labels ?? {};
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404)) throw error;
  }
  const slug = labels[tenantLabel];
  if (!slug) return { unknown: `namespace ${namespace} has no ${tenantLabel} label` };
  const tenant = await findTenant(db, slug);
  if (!tenant || tenant.slug !== slug) return { unknown: `no tenant ${slug} (label ${tenantLabel} of namespace ${namespace})` };
  return { tenant };
}
