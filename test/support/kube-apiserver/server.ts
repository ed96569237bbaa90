import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authorize, verbOf, type ServiceAccountRbac } from './rbac.ts';
import { builtins, groupVersion, loadCrds, type ResourceType } from './resources.ts';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.ts';
import { StatusError, Store, type Filter } from './store.ts';
import { toTable } from './table.ts';

/** A scripted failure: the Nth matching call (1 = the next) answers `status` instead of being served. */
export interface FaultRule {
  method?: string;
  /** Part of the path, e.g. `/status` or `/cloudpods`. */
  path?: string;
  status: 409 | 429 | 500;
  nth?: number;
  /** How many calls in a row fail from the Nth on (default 1). */
  times?: number;
}

interface OpenWatch {
  path: string;
  response: ServerResponse;
  frozen: boolean;
  stop(): void;
}

export interface FakeKubeApiserver {
  url: string;
  /** A kubeconfig file pointing at this server, with unrestricted rights (for kubectl and the tests). */
  kubeconfigPath: string;
  /** A kubeconfig file for one of the service accounts given in the options (whose RBAC then applies). */
  kubeconfigFor(token: string): string;
  store: Store;
  types: ResourceType[];
  /** Every request served: method and path with query, for assertions on the calls made. */
  calls: Array<{ method: string; path: string }>;
  /** Requests of service accounts that their RBAC refused (403). */
  forbidden: Array<{ method: string; path: string; message: string }>;
  faults: {
    failNth(rule: FaultRule): void;
    /** Ends every open watch whose path contains `pathPart` (all when omitted), as a dropped connection would. */
    dropWatches(pathPart?: string): number;
    /** Stops sending on open watches without closing them: a half-open connection. */
    freezeWatches(pathPart?: string): number;
    /** Forgets all history: watches and continue tokens from before get 410. */
    compact(): void;
    openWatches(pathPart?: string): number;
  };
  stop(): Promise<void>;
}

export interface FakeKubeApiserverOptions {
  crdsDirectory: string;
  /** How often watches that asked for bookmarks get one (ms). */
  bookmarkIntervalMs?: number;
  /** Requests bearing one of these tokens are authorized by its rules (403 otherwise); other tokens may do anything. */
  serviceAccounts?: ServiceAccountRbac[];
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new StatusError(400, 'BadRequest', 'the request body is not valid JSON');
  }
}

const resourceList = (gv: string, types: ResourceType[]) => ({
  kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv,
  resources: types.flatMap((t) => [
    { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}), ...(t.categories.length ? { categories: t.categories } : {}) },
    ...(t.statusSubresource ? [{ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind,
      verbs: ['get', 'patch', 'update'] }] : []),
  ]),
});

/**
 * A kube-apiserver for tests, faithful where our bridge and kubectl depend on it (test/kube-apiserver.test.ts is
 * its conformance suite): the store's write semantics, watches over chunked NDJSON with bookmarks and 410,
 * discovery and Tables for kubectl, and fault injection. HTTP on loopback, no authentication.
 */
export async function startFakeKubeApiserver({ crdsDirectory, bookmarkIntervalMs = 1000, serviceAccounts = [] }: FakeKubeApiserverOptions)
  : Promise<FakeKubeApiserver> {
  const types = [...builtins, ...loadCrds(crdsDirectory)];
  const store = new Store();
  store.create(types[0]!, undefined, { metadata: { name: 'default' } });
  const calls: FakeKubeApiserver['calls'] = [];
  const forbidden: FakeKubeApiserver['forbidden'] = [];
  const rules: Array<FaultRule & { seen: number }> = [];
  const watches = new Set<OpenWatch>();
  const sockets = new Set<Socket>();

  function injectedFault(method: string, url: string): FaultRule | undefined {
    for (const rule of rules) {
      if ((rule.method && rule.method !== method) || (rule.path && !url.includes(rule.path))) continue;
      rule.seen++;
      const nth = rule.nth ?? 1;
      if (rule.seen >= nth && rule.seen < nth + (rule.times ?? 1)) return rule;
    }
    return undefined;
  }

  function discovery(pathname: string): unknown {
    if (pathname === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0-fake', platform: 'linux/amd64' };
    if (pathname === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (pathname === '/api/v1') return resourceList('v1', types.filter((t) => t.group === ''));
    if (pathname === '/apis') {
      const groups = [...new Set(types.filter((t) => t.group).map((t) => t.group))];
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((name) => {
        const version = types.find((t) => t.group === name)!.version;
        const gv = { groupVersion: `${name}/${version}`, version };
        return { name, versions: [gv], preferredVersion: gv };
      }) };
    }
    const match = /^\/apis\/([^/]+)\/([^/]+)$/.exec(pathname);
    if (match) {
      const inGroup = types.filter((t) => t.group === match[1] && t.version === match[2]);
      if (inGroup.length) return resourceList(`${match[1]}/${match[2]}`, inGroup);
    }
    return undefined;
  }

  /**
   * kubectl validates manifests against /openapi/v3: the index of group-versions, then each one's document with
   * the kinds' schemas tagged by x-kubernetes-group-version-kind.
   */
  function openApi(pathname: string): unknown {
    const gvs = [...new Set(types.map(groupVersion))];
    const docPath = (gv: string) => (gv.includes('/') ? `apis/${gv}` : `api/${gv}`);
    if (pathname === '/openapi/v3') {
      return { paths: Object.fromEntries(gvs.map((gv) => [docPath(gv), { serverRelativeURL: `/openapi/v3/${docPath(gv)}?hash=1` }])) };
    }
    const gv = gvs.find((candidate) => pathname === `/openapi/v3/${docPath(candidate)}`);
    if (!gv) return undefined;
    const schemas = Object.fromEntries(types.filter((t) => groupVersion(t) === gv).map((t) => [
      `${t.group || 'core'}.${t.version}.${t.kind}`,
      { ...(t.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
        'x-kubernetes-group-version-kind': [{ group: t.group, version: t.version, kind: t.kind }] },
    ]));
    // The fieldValidation parameter tells kubectl the server validates fields itself (no client-side openapi v2).
    const operation = (t: ResourceType, action: string) => ({ 'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
      parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }], responses: {} });
    const paths = Object.fromEntries(types.filter((t) => groupVersion(t) === gv).flatMap((t) => {
      const base = `/${docPath(gv)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
      return [[base, { post: operation(t, 'post') }],
        [`${base}/{name}`, { put: operation(t, 'put'), patch: operation(t, 'patch') }]];
    }));
    return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
  }

  function resolve(pathname: string) {
    const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(pathname);
    if (!match) return undefined;
    const [, coreVersion, group = '', groupVersionName, namespace, plural, name, subresource] = match;
    const version = coreVersion ?? groupVersionName;
    // `/api/v1/namespaces/<name>` is the namespace itself, not a namespaced collection.
    if (coreVersion && namespace && !plural) return undefined;
    const type = types.find((t) => t.group === group && t.version === version && t.plural === plural);
    if (!type) {
      if (coreVersion && pathname.startsWith('/api/v1/namespaces/') && !name && namespace) {
        return { type: types[0]!, namespace: undefined, name: namespace, subresource: undefined };
      }
      return undefined;
    }
    return { type, namespace: type.namespaced ? namespace : undefined, name, subresource: subresource as 'status' | undefined };
  }

  function filterOf(namespace: string | undefined, query: URLSearchParams): Filter {
    try {
      return { namespace, labels: parseLabelSelector(query.get('labelSelector') ?? ''),
        fields: parseFieldSelector(query.get('fieldSelector') ?? '', ['metadata.name', 'metadata.namespace']) };
    } catch (error) {
      if (error instanceof SelectorError) throw new StatusError(400, 'BadRequest', error.message);
      throw error;
    }
  }

  function serveWatch(request: IncomingMessage, response: ServerResponse, type: ResourceType, filter: Filter, query: URLSearchParams) {
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const open: OpenWatch = { path: request.url ?? '', response, frozen: false, stop: () => {} };
    const write = (event: unknown) => { if (!open.frozen && !response.writableEnded) response.write(`${JSON.stringify(event)}\n`); };
    let stopWatch = () => {};
    try {
      stopWatch = store.watch(type, filter, query.get('resourceVersion') ?? undefined, (eventType, object) => write({ type: eventType, object }));
    } catch (error) {
      if (!(error instanceof StatusError)) throw error;
      write({ type: 'ERROR', object: error.toStatus() });
      response.end();
      return;
    }
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    const bookmark = () => write({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion: groupVersion(type),
      metadata: { resourceVersion: store.resourceVersion } } });
    const timer = bookmarks ? setInterval(bookmark, bookmarkIntervalMs) : undefined;
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? 1800);
    const timeout = setTimeout(() => { if (bookmarks) bookmark(); open.stop(); }, timeoutSeconds * 1000);
    open.stop = () => {
      stopWatch();
      clearInterval(timer);
      clearTimeout(timeout);
      watches.delete(open);
      if (!response.writableEnded) response.end();
    };
    watches.add(open);
    request.on('close', open.stop);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    calls.push({ method, path: `${url.pathname}${url.search}` });
    const fault = injectedFault(method, `${url.pathname}${url.search}`);
    if (fault) {
      const reason = { 409: 'Conflict', 429: 'TooManyRequests', 500: 'InternalError' }[fault.status];
      if (fault.status === 429) response.setHeader('retry-after', '1');
      await readBody(request).catch(() => undefined);
      send(response, fault.status, new StatusError(fault.status, reason, `injected ${reason}`).toStatus());
      return;
    }
    const found = discovery(url.pathname);
    if (found && method === 'GET') return send(response, 200, found);
    if (url.pathname.startsWith('/openapi/')) {
      const document = openApi(url.pathname);
      if (document) return send(response, 200, document);
      return send(response, 404, new StatusError(404, 'NotFound', 'the server could not find the requested resource').toStatus());
    }
    const target = resolve(url.pathname);
    if (!target) return send(response, 404, new StatusError(404, 'NotFound', 'the server could not find the requested resource').toStatus());
    const { type, namespace, name, subresource } = target;
    if (subresource && !type.statusSubresource) {
      return send(response, 404, new StatusError(404, 'NotFound', 'the server could not find the requested resource').toStatus());
    }
    const query = url.searchParams;
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const account = serviceAccounts.find((a) => a.token === bearer);
    if (account) {
      try {
        authorize(account, { verb: verbOf(method, Boolean(name), query.get('watch') === 'true' || query.get('watch') === '1'),
          group: type.group, resource: `${type.plural}${subresource ? `/${subresource}` : ''}`, namespace });
      } catch (error) {
        forbidden.push({ method, path: `${url.pathname}${url.search}`, message: (error as Error).message });
        throw error;
      }
    }
    /** Store calls are synchronous: the flag holds for exactly this request's write. */
    const strictly = <T>(write: () => T): T => {
      store.strict = query.get('fieldValidation') === 'Strict';
      try { return write(); } finally { store.strict = false; }
    };
    const wantsTable = (request.headers.accept ?? '').includes('as=Table');
    if (method === 'GET' && !name) {
      const filter = filterOf(namespace, query);
      if (query.get('watch') === 'true' || query.get('watch') === '1') return serveWatch(request, response, type, filter, query);
      const limit = query.get('limit') ? Number(query.get('limit')) : undefined;
      const list = store.list(type, filter, { ...(limit ? { limit } : {}), ...(query.get('continue') ? { continue: query.get('continue')! } : {}) });
      if (wantsTable) return send(response, 200, toTable(type, list.items, String(list.metadata.resourceVersion)));
      return send(response, 200, { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata: list.metadata, items: list.items });
    }
    if (method === 'POST' && !name) {
      const body = await readBody(request);
      return send(response, 201, strictly(() => store.create(type, namespace, body)));
    }
    if (!name) return send(response, 405, new StatusError(405, 'MethodNotAllowed', `${method} is not allowed on a collection`).toStatus());
    switch (method) {
      case 'GET': {
        const object = store.get(type, namespace, name);
        return send(response, 200, wantsTable ? toTable(type, [object], object.metadata.resourceVersion) : object);
      }
      case 'PUT': {
        const body = await readBody(request);
        return send(response, 200, strictly(() => store.update(type, namespace, name, body, subresource)));
      }
      case 'PATCH': {
        const body = await readBody(request);
        return send(response, 200, strictly(() => store.patch(type, namespace, name, request.headers['content-type'] ?? '',
          body, subresource)));
      }
      case 'DELETE': {
        const body = (await readBody(request)) as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined;
        return send(response, 200, store.delete(type, namespace, name, body?.preconditions ?? {}));
      }
      default: return send(response, 405, new StatusError(405, 'MethodNotAllowed', `${method} is not allowed`).toStatus());
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      if (response.headersSent) { response.end(); return; }
      if (error instanceof StatusError) send(response, error.code, error.toStatus());
      else send(response, 500, new StatusError(500, 'InternalError', String((error as Error).stack ?? error)).toStatus());
    });
  });
  server.on('connection', (socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const directory = mkdtempSync(path.join(tmpdir(), 'fake-kube-'));
  const kubeconfigFor = (token: string) => {
    const file = path.join(directory, `kubeconfig-${token}`);
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
      clusters: [{ name: 'fake', cluster: { server: url } }],
      users: [{ name: 'fake', user: { token } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: 'default' } }],
    }));
    return file;
  };
  const kubeconfigPath = kubeconfigFor('fake-token');

  const selectWatches = (part?: string) => [...watches].filter((w) => !part || w.path.includes(part));
  return {
    url, kubeconfigPath, kubeconfigFor, store, types, calls, forbidden,
    faults: {
      failNth: (rule) => { rules.push({ ...rule, seen: 0 }); },
      dropWatches: (part) => {
        const selected = selectWatches(part);
        for (const w of selected) { w.stop(); w.response.socket?.destroy(); }
        return selected.length;
      },
      freezeWatches: (part) => {
        const selected = selectWatches(part);
        for (const w of selected) w.frozen = true;
        return selected.length;
      },
      compact: () => store.compact(),
      openWatches: (part) => selectWatches(part).length,
    },
    async stop() {
      for (const w of [...watches]) w.stop();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
