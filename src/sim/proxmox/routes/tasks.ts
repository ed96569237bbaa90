import { parameterErrors } from '../api-error.ts';
import { bool, int, nodeSpec, optional, str, vmidSpec } from '../params.ts';
import { WithTotal, type Route } from '../router.ts';
import { decodeUpid } from '../format/upid.ts';
import type { SimTask, SimTasks } from '../tasks.ts';

/** Task list, status and log, read on the node named in the path. */

const upidSpec = { type: 'string' as const };

export const taskRoutes: Route[] = [
  {
    method: 'GET', path: '/nodes/{node}/tasks',
    params: {
      node: nodeSpec, vmid: optional(vmidSpec), source: { type: 'string', optional: true, enum: ['archive', 'active', 'all'] },
      typefilter: str, userfilter: str, statusfilter: str, errors: bool, limit: int, start: int, since: int, until: int,
    },
    handle: ({ params, sim }) => {
      const source = params.source ?? 'archive';
      const tasks = sim.tasks.list(params.node!)
        .filter((t) => source === 'all' || (source === 'active' ? t.status === 'running' : t.status === 'stopped'))
        .filter((t) => (!params.vmid || t.id === params.vmid) && (!params.typefilter || t.type === params.typefilter));
      const start = Number(params.start ?? 0);
      return tasks.slice(start, start + Number(params.limit ?? 50)).map(taskListEntry);
    },
  },
  {
    method: 'GET', path: '/nodes/{node}/tasks/{upid}/status', params: { node: nodeSpec, upid: upidSpec },
    handle: ({ params, sim }) => {
      const task = findTask(sim.tasks, params.upid!, params.node!);
      return {
        upid: task.upid, node: task.node, pid: task.pid, pstart: task.pstart, starttime: task.starttime, type: task.type,
        id: task.id, user: task.user, status: task.status, ...(task.exitstatus !== undefined ? { exitstatus: task.exitstatus } : {}),
      };
    },
  },
  {
    method: 'GET', path: '/nodes/{node}/tasks/{upid}/log',
    params: { node: nodeSpec, upid: upidSpec, start: int, limit: int, download: bool },
    handle: ({ params, sim }) => {
      const task = findTask(sim.tasks, params.upid!, params.node!);
      const start = Number(params.start ?? 0);
      const limit = Number(params.limit ?? 50);
      const lines = task.log.slice(start, limit === 0 ? undefined : start + limit).map((t, i) => ({ n: start + i + 1, t }));
      return new WithTotal(lines, task.log.length);
    },
  },
];

function findTask(tasks: SimTasks, upid: string, node: string): SimTask {
  if (!decodeUpid(upid)) throw parameterErrors({ upid: 'unable to parse worker upid' });
  const task = tasks.get(upid);
  // A task is only known on its own node, exactly as PVE reads it from that node's task directory.
  if (!task || task.node !== node) throw parameterErrors({ upid: 'no such task' });
  return task;
}

function taskListEntry(task: SimTask): Record<string, unknown> {
  return {
    upid: task.upid, node: task.node, pid: task.pid, pstart: task.pstart, starttime: task.starttime, type: task.type,
    id: task.id, user: task.user, ...(task.status === 'stopped' ? { status: task.exitstatus, endtime: task.endtime } : {}),
  };
}
