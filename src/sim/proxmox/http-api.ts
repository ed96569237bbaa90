import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../observability/logger.ts';
import { SimApiError, TaskError } from './api-error.ts';
import { handleFaultApi } from './fault-api.ts';
import type { SimStats } from './stats.ts';

export type { SimStats } from './stats.ts';
import { verifyParams } from './params.ts';
import { matchRoute, WithTotal, type Route, type SimContext } from './router.ts';
import type { SimTokenSpec } from './options.ts';

/**
 * The `/api2/json` front of the simulator, answering as pveproxy does: API-token authentication, `{"data": ...}`
 * envelopes, parameter verification, errors as status + reason phrase + `message` (+ `errors` per parameter),
 * 501 for unknown methods, and 595 for a node that is offline. `/_sim/...` is the fault API.
 */

export interface ApiExchange {
  method: string;
  /** Path after `/api2/json`, without the query. */
  path: string;
  /** Query or body parameters as received (path parameters not included). */
  params: Record<string, string>;
  status: number;
  data: unknown;
}

export interface ApiHandlerOptions {
  sim: SimContext;
  routes: readonly Route[];
  tokens: SimTokenSpec[];
  stats: SimStats;
  onExchange: (exchange: ApiExchange) => void;
  logger?: Logger;
}

export function createApiHandler(options: ApiHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(options, req, res).catch((error) => {
      options.logger?.error({ err: error }, 'simulator failed to answer');
      if (!res.headersSent) send(res, 500, { data: null, message: 'internal simulator error\n' }, 'internal simulator error');
      else res.destroy();
    });
  };
}

async function handle(options: ApiHandlerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://sim');
  const method = req.method ?? 'GET';
  const user = authenticate(options.tokens, req.headers.authorization);
  if (!user) {
    await drain(req);
    return sendError(res, new SimApiError(401, req.headers.authorization ? 'authentication failure' : 'No ticket'));
  }
  if (url.pathname.startsWith('/_sim/')) {
    const body = await readBody(req);
    const answer = await handleFaultApi(options.sim, options.stats, method, url.pathname, body ? JSON.parse(body) : {});
    return send(res, answer.status, answer.body, 'OK');
  }
  const path = url.pathname.replace(/^\/api2\/json/, '');
  const params = method === 'GET' || method === 'DELETE' ? Object.fromEntries(url.searchParams) : parseBody(req, await readBody(req));
  options.stats.requests += 1;
  const node = /^\/nodes\/([^/]+)/.exec(path)?.[1];
  const storage = /^\/nodes\/[^/]+\/storage\/([^/]+)/.exec(path)?.[1] ?? params.storage;
  const release = track(options.stats, node, storage);
  let status = 200;
  let data: unknown = null;
  let body: unknown;
  let reason = 'OK';
  try {
    const latency = options.sim.faults.latencyFor(path);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const answer = await answerRequest(options, method, path, params, user);
    data = answer instanceof WithTotal ? answer.data : answer;
    body = answer instanceof WithTotal ? { data: answer.data, total: answer.total } : { data: answer };
  } catch (error) {
    const apiError = error instanceof SimApiError ? error
      : error instanceof TaskError ? new SimApiError(500, error.message) : undefined;
    if (!apiError) throw error;
    status = apiError.status;
    ({ body, reason } = errorReply(apiError));
  } finally {
    release();
  }
  // Recorded before the answer leaves, so whoever checks exchanges sees every request its client completed.
  options.onExchange({ method, path, params, status, data });
  send(res, status, body, reason);
}

async function answerRequest(options: ApiHandlerOptions, method: string, path: string, params: Record<string, string>,
  user: string): Promise<unknown> {
  const { sim } = options;
  const node = /^\/nodes\/([^/]+)/.exec(path)?.[1];
  if (node && sim.cluster.nodes.get(node)?.online === false) throw new SimApiError(595, `Connection refused`);
  const fault = sim.faults.errorFor(method, path);
  if (fault) throw new SimApiError(fault.status, fault.message);
  const match = matchRoute(options.routes, method, path);
  if (!match) throw new SimApiError(501, `Method '${method} /api2/json${path}' not implemented`);
  const token = options.tokens.find((t) => t.id === user);
  if (token?.readOnly && match.route.privilege) {
    const target = match.pathParams.vmid ? `/vms/${match.pathParams.vmid}` : match.pathParams.storage
      ? `/storage/${match.pathParams.storage}` : `/nodes/${match.pathParams.node ?? ''}`;
    throw new SimApiError(403, `Permission check failed (${target}, ${match.route.privilege})`);
  }
  const all = { ...params, ...match.pathParams };
  verifyParams(all, match.route.params, match.route.patterns);
  return await match.route.handle({ params: all, user, sim });
}

/** `PVEAPIToken=USER@REALM!TOKENID=SECRET` naming a known token with its secret; answers the token id. */
function authenticate(tokens: SimTokenSpec[], header: string | undefined): string | undefined {
  const match = /^PVEAPIToken=([^=\s]+)=(\S+)$/.exec(header ?? '');
  if (!match) return undefined;
  return tokens.find((t) => t.id === match[1] && t.secret === match[2])?.id;
}

function track(stats: SimStats, node: string | undefined, storage: string | undefined): () => void {
  const keys: Array<[Map<string, number>, Map<string, number>, string]> = [];
  if (node) keys.push([stats.inFlightByNode, stats.maxInFlightByNode, node]);
  if (storage) keys.push([stats.inFlightByStorage, stats.maxInFlightByStorage, storage]);
  for (const [inFlight, max, key] of keys) {
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    max.set(key, Math.max(max.get(key) ?? 0, now));
  }
  return () => { for (const [inFlight, , key] of keys) inFlight.set(key, inFlight.get(key)! - 1); };
}

function parseBody(req: IncomingMessage, body: string): Record<string, string> {
  if (!body) return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]));
  }
  return Object.fromEntries(new URLSearchParams(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) { /* discard */ }
}

function errorReply(error: SimApiError): { body: unknown; reason: string } {
  return {
    body: { data: null, message: `${error.message}\n`, ...(error.errors ? { errors: error.errors } : {}) },
    reason: error.message.split('\n')[0]!,
  };
}

function sendError(res: ServerResponse, error: SimApiError): void {
  const { body, reason } = errorReply(error);
  send(res, error.status, body, reason);
}

function send(res: ServerResponse, status: number, body: unknown, reason: string): void {
  const text = JSON.stringify(body);
  // PVE puts the message's first line in the status line; it must stay printable ASCII there.
  res.writeHead(status, reason.replace(/[^\x20-\x7e]/g, '?'), {
    'content-type': 'application/json;charset=UTF-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'max-age=0',
  });
  res.end(text);
}
