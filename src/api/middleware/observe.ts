import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { AppEnv } from '../context.ts';

/** Probes are asked every few seconds; logging each one at info would bury everything else. */
const quietPaths = new Set(['/healthz', '/readyz', '/metrics']);

/** Logs each request with its id and counts it by route pattern (never the raw path: ids would explode labels). */
export function observeRequests(logger: Logger, metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async function observeRequest(c, next) {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routePattern(c);
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    metrics.httpRequests.inc(labels);
    metrics.httpRequestDuration.observe(labels, seconds);
    const level = quietPaths.has(c.req.path) ? 'debug' : c.res.status >= 500 ? 'error' : 'info';
    logger[level]({
      requestId: c.get('requestId'),
      req: { method: c.req.method, path: c.req.path, route },
      res: { status: c.res.status },
      durationMs: Math.round(seconds * 1000 * 10) / 10,
    }, 'request');
  };
}

/** The pattern of the handler that answered (`/api/tokens/:id`), or `unmatched` when only middleware ran. */
export function routePattern(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  const handlers = matchedRoutes(c).filter((route) => route.method !== 'ALL');
  return handlers.at(-1)?.path ?? 'unmatched';
}
