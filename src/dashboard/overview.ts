import { shownPhaseSql } from '../front-door.ts';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/**
 * The admin dashboard's numbers (spec 2.2), one query per figure. "usedApprox" is what running pods hold: until
 * the metrics collector reports real usage, a running pod counts as using what it was given.
 */
export interface Overview {
  totals: {
    pods: { total: number; active: number; stopped: number; provisioning: number; error: number; deleting: number };
    tenants: number;
  };
  resources: {
    cpuCores: { allocated: number; usedApprox: number };
    memoryMb: { allocated: number; usedApprox: number };
    diskGb: { allocated: number; usedApprox: number };
  };
  health: { unhealthyPods: number; autoHealTriggeredLast24h: number };
  recentEvents: Array<{ id: number; created_at: Date; category: string; action: string; tenant_id: string | null;
    pod_id: string | null; actor: string }>;
  topTenantsByUsage: Array<{ tenantId: string; name: string; pods: number; cpuCores: number; memoryMb: number }>;
  /** Pods created and destroyed per day over the last 7 days (UTC days, oldest first). */
  podsCreatedVsDestroyed7d: Array<{ day: string; created: number; destroyed: number }>;
}

const dashboardCategories = ['lifecycle', 'health', 'backup', 'quota'] as const;

/** Pods with the phase the API shows: `deleting` as soon as deletion was asked. */
const shownPods = (db: Kysely<Database>) => db.selectFrom('cloud_pods').selectAll().select(shownPhaseSql.as('phase')).as('p');

export async function adminOverview(db: Kysely<Database>, { recent = 20, top = 10 } = {}): Promise<Overview> {
  const [pods, tenants, volumes, unhealthy, autoHeal, events, ranking, days] = await Promise.all([
    // A pod asked to go counts as deleting at once, before its controller writes the phase (as the API shows it).
    db.selectFrom(shownPods(db)).select([
      sql<number>`count(*)::int`.as('total'),
      sql<number>`(count(*) filter (where phase = 'active'))::int`.as('active'),
      sql<number>`(count(*) filter (where phase = 'stopped'))::int`.as('stopped'),
      sql<number>`(count(*) filter (where phase in ('pending', 'provisioning')))::int`.as('provisioning'),
      sql<number>`(count(*) filter (where phase = 'error'))::int`.as('error'),
      sql<number>`(count(*) filter (where phase = 'deleting'))::int`.as('deleting'),
      sql<number>`coalesce(sum(cpu_cores), 0)::int`.as('cpu'),
      sql<number>`coalesce(sum(cpu_cores) filter (where phase = 'active'), 0)::int`.as('cpu_used'),
      sql<number>`coalesce(sum(memory_mb), 0)::int`.as('memory'),
      sql<number>`coalesce(sum(memory_mb) filter (where phase = 'active'), 0)::int`.as('memory_used'),
      sql<number>`coalesce(sum(disk_gb), 0)::int`.as('disk'),
      sql<number>`coalesce(sum(disk_gb) filter (where phase in ('active', 'stopped')), 0)::int`.as('disk_used'),
    ]).executeTakeFirstOrThrow(),
    db.selectFrom('tenants').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('cloud_pod_volumes').select([
      sql<number>`coalesce(sum(size_gb), 0)::int`.as('disk'),
      sql<number>`coalesce(sum(size_gb) filter (where status = 'attached'), 0)::int`.as('disk_used'),
    ]).executeTakeFirstOrThrow(),
    // What the health controller found failing (Healthy=False), not being deleted: what an admin should look at.
    db.selectFrom('cloud_pods').select(sql<number>`count(*)::int`.as('n')).where('health_status', '=', 'False')
      .where('deletion_requested_at', 'is', null).executeTakeFirstOrThrow(),
    db.selectFrom('cloud_pod_audit').select(sql<number>`count(*)::int`.as('n')).where('category', '=', 'health')
      .where('action', 'like', 'auto_heal%').where('created_at', '>', sql<Date>`now() - interval '24 hours'`)
      .executeTakeFirstOrThrow(),
    db.selectFrom('cloud_pod_audit').select(['id', 'created_at', 'category', 'action', 'tenant_id', 'pod_id',
      sql<string>`actor_type || coalesce(':' || actor_id, '')`.as('actor')])
      .where('category', 'in', dashboardCategories).orderBy('id', 'desc').limit(recent).execute(),
    db.selectFrom('cloud_pods as p').innerJoin('tenants as t', 't.id', 'p.tenant_id')
      .select(['t.id as tenantId', 't.name', sql<number>`count(*)::int`.as('pods'),
        sql<number>`sum(p.cpu_cores)::int`.as('cpuCores'), sql<number>`sum(p.memory_mb)::int`.as('memoryMb')])
      .groupBy(['t.id', 't.name']).orderBy('cpuCores', 'desc').orderBy('memoryMb', 'desc').orderBy('t.name')
      .limit(top).execute(),
    sql<{ day: string; created: number; destroyed: number }>`
      select to_char(d.day, 'YYYY-MM-DD') as day,
             (count(a.id) filter (where a.action = 'pod.created'))::int as created,
             (count(a.id) filter (where a.action = 'pod.deleted'))::int as destroyed
        from generate_series((now() at time zone 'utc')::date - 6, (now() at time zone 'utc')::date, interval '1 day') as d(day)
        left join cloud_pod_audit a on a.category = 'lifecycle' and a.action in ('pod.created', 'pod.deleted')
             and (a.created_at at time zone 'utc')::date = d.day::date
       group by d.day order by d.day`.execute(db),
  ]);
  return {
    totals: {
      pods: { total: pods.total, active: pods.active, stopped: pods.stopped, provisioning: pods.provisioning,
        error: pods.error, deleting: pods.deleting },
      tenants: tenants.n,
    },
    resources: {
      cpuCores: { allocated: pods.cpu, usedApprox: pods.cpu_used },
      memoryMb: { allocated: pods.memory, usedApprox: pods.memory_used },
      diskGb: { allocated: pods.disk + volumes.disk, usedApprox: pods.disk_used + volumes.disk_used },
    },
    health: { unhealthyPods: unhealthy.n, autoHealTriggeredLast24h: autoHeal.n },
    recentEvents: events,
    topTenantsByUsage: ranking,
    podsCreatedVsDestroyed7d: days.rows,
  };
}
