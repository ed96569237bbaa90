import type { SimCluster } from './cluster.ts';
import type { SimFaults } from './faults.ts';
import type { VmFileLocks } from './flocks.ts';
import type { SimDurations } from './options.ts';
import type { ParamSpecs, PatternSpecs } from './params.ts';
import type { SimTasks } from './tasks.ts';

/** The pieces every route works with. */
export interface SimContext {
  cluster: SimCluster;
  tasks: SimTasks;
  locks: VmFileLocks;
  faults: SimFaults;
  durations: SimDurations;
  snippetsDir: string;
}

export interface RouteRequest {
  /** Query or body parameters merged with the path's (`node`, `vmid`, ...), every value a string as PVE sees them. */
  params: Record<string, string>;
  /** The authenticated `USER@REALM!TOKENID`. */
  user: string;
  sim: SimContext;
}

/** A list answer with `total` beside `data`, as the task log gives it. */
export class WithTotal {
  readonly data: unknown;
  readonly total: number;
  constructor(data: unknown, total: number) {
    this.data = data;
    this.total = total;
  }
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to `/api2/json`, with `{name}` segments. */
  path: string;
  params: ParamSpecs;
  patterns?: PatternSpecs;
  /** The privilege a change needs, for the 403 a read-only token gets. */
  privilege?: string;
  handle(request: RouteRequest): unknown;
}

export interface RouteMatch {
  route: Route;
  pathParams: Record<string, string>;
}

export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/').filter(Boolean);
  let best: { match: RouteMatch; literals: number } | undefined;
  for (const route of routes) {
    if (route.method !== method) continue;
    const template = route.path.split('/').filter(Boolean);
    if (template.length !== segments.length) continue;
    const pathParams: Record<string, string> = {};
    let literals = 0;
    const fits = template.every((part, i) => {
      const segment = decodeURIComponent(segments[i]!);
      if (part.startsWith('{')) {
        pathParams[part.slice(1, -1)] = segment;
        return true;
      }
      literals += 1;
      return part === segment;
    });
    if (fits && (!best || literals > best.literals)) best = { match: { route, pathParams }, literals };
  }
  return best?.match;
}
