import { sql, type Kysely, type Selectable } from 'kysely';
import type { CloudPodsTable, Database, PodStatus } from '../db/schema.ts';

/** One function per SQL operation on cloud_pods. */
export type PodRow = Selectable<CloudPodsTable>;
/** A pod with its template's code, as every reader wants it. */
export type Pod = PodRow & { template_code: string };

function podsWithTemplate(db: Kysely<Database>) {
  return db.selectFrom('cloud_pods as p').innerJoin('cloud_pod_templates as t', 't.id', 'p.template_id')
    .selectAll('p').select('t.code as template_code');
}

export function findPod(db: Kysely<Database>, id: string): Promise<Pod | undefined> {
  return podsWithTemplate(db).where('p.id', '=', id).executeTakeFirst();
}

/** The pod a Kubernetes resource stands for, by the resource's uid. */
export function findPodOfResource(db: Kysely<Database>, kubeUid: string): Promise<Pod | undefined> {
  return podsWithTemplate(db).where('p.kube_uid', '=', kubeUid).executeTakeFirst();
}

/** Locks the pod row for the rest of the transaction: spec writers and the controller's status write queue here. */
export function lockPod(db: Kysely<Database>, id: string): Promise<PodRow | undefined> {
  return db.selectFrom('cloud_pods').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export interface PodFilter {
  tenantId?: string;
  status?: PodStatus;
  templateCode?: string;
  /** Part of the name. */
  name?: string;
}

export async function listPods(db: Kysely<Database>, filter: PodFilter, page: { limit: number; offset: number })
  : Promise<{ pods: Pod[]; total: number }> {
  let query = podsWithTemplate(db);
  if (filter.tenantId) query = query.where('p.tenant_id', '=', filter.tenantId);
  // The phase as the view shows it (shownPhase): a pod whose deletion was asked is deleting.
  if (filter.status === 'deleting') query = query.where('p.deletion_requested_at', 'is not', null);
  else if (filter.status) query = query.where('p.status', '=', filter.status).where('p.deletion_requested_at', 'is', null);
  if (filter.templateCode) query = query.where('t.code', '=', filter.templateCode);
  if (filter.name) query = query.where('p.name', 'like', `%${filter.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  const [pods, count] = await Promise.all([
    query.orderBy('p.created_at', 'desc').orderBy('p.id').limit(page.limit).offset(page.offset).execute(),
    query.clearSelect().select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { pods, total: count.n };
}

