import type { Logger } from '../observability/logger.ts';
import { classifyNetworkError, classifyResponse } from './classify.ts';
import { ProxmoxError } from './errors.ts';
import { KeyedLimiter } from './limiter.ts';
import type { HttpMethod, ProxmoxTransport } from './transport/transport.ts';

/**
 * The request layer under the typed client: encodes parameters as PVE expects (query for GET/DELETE, form body for
 * POST/PUT, booleans as 0/1), authenticates with the API token, queues per node and per storage, applies the
 * timeout, unwraps `{"data": ...}` and turns every failure into a classified ProxmoxError.
 */

export type ParamValue = string | number | boolean | undefined;
export type Params = Record<string, ParamValue>;

export interface ProxmoxApiOptions {
  transport: ProxmoxTransport;
  /** `USER@REALM!TOKENID` */
  tokenId: string;
  tokenSecret: string;
  perNodeConcurrency: number;
  perStorageConcurrency: number;
  requestTimeoutMs: number;
  logger?: Logger;
}

export interface RequestOptions {
  /** Storages this call allocates on or frees from: each takes a per-storage slot. */
  storages?: readonly (string | undefined)[];
}

export interface ApiResult<T> {
  data: T;
  total?: number;
}

export class ProxmoxApi {
  readonly #options: ProxmoxApiOptions;
  readonly #nodeLimiter: KeyedLimiter;
  readonly #storageLimiter: KeyedLimiter;
  readonly #authorization: string;

  constructor(options: ProxmoxApiOptions) {
    this.#options = options;
    this.#nodeLimiter = new KeyedLimiter(options.perNodeConcurrency);
    this.#storageLimiter = new KeyedLimiter(options.perStorageConcurrency);
    this.#authorization = `PVEAPIToken=${options.tokenId}=${options.tokenSecret}`;
  }

  get transportName(): string {
    return this.#options.transport.name;
  }

  async call<T>(method: HttpMethod, path: string, params: Params = {}, options: RequestOptions = {}): Promise<T> {
    return (await this.callWithTotal<T>(method, path, params, options)).data;
  }

  async callWithTotal<T>(method: HttpMethod, path: string, params: Params = {}, options: RequestOptions = {}): Promise<ApiResult<T>> {
    const node = /^\/nodes\/([^/]+)/.exec(path)?.[1];
    const storages = (options.storages ?? []).filter((s): s is string => s !== undefined);
    const send = () => this.#send<T>(method, path, params, node === undefined ? undefined : decodeURIComponent(node));
    const limitedByStorage = () => this.#storageLimiter.runAll(storages, send);
    return node === undefined ? limitedByStorage() : this.#nodeLimiter.run(node, limitedByStorage);
  }

  close(): Promise<void> {
    return this.#options.transport.close();
  }

  async #send<T>(method: HttpMethod, path: string, params: Params, node: string | undefined): Promise<ApiResult<T>> {
    const encoded = encodeParams(params);
    const inQuery = method === 'GET' || method === 'DELETE';
    const request = `${method} ${path}`;
    const started = performance.now();
    let response;
    try {
      response = await this.#options.transport.send({
        node, method, timeoutMs: this.#options.requestTimeoutMs,
        path: `/api2/json${path}${inQuery && encoded ? `?${encoded}` : ''}`,
        headers: {
          authorization: this.#authorization, accept: 'application/json',
          ...(inQuery ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(inQuery ? {} : { body: encoded }),
      });
    } catch (error) {
      const classified = classifyNetworkError(error, request);
      this.#log(request, params, started, undefined, classified);
      throw classified;
    }
    const body = parseBody(response.body);
    if (response.status !== 200) {
      const error = classifyResponse({
        status: response.status, message: typeof body?.message === 'string' ? body.message : response.statusMessage,
        errors: isRecord(body?.errors) ? body.errors as Record<string, string> : undefined, request,
      });
      this.#log(request, params, started, response.status, error);
      throw error;
    }
    if (!body || !('data' in body)) {
      throw new ProxmoxError(`${request}: answer is not a Proxmox envelope`, { status: response.status, request });
    }
    this.#log(request, params, started, response.status);
    return { data: body.data as T, ...(typeof body.total === 'number' ? { total: body.total } : {}) };
  }

  #log(request: string, params: Params, started: number, status: number | undefined, error?: ProxmoxError): void {
    // Parameter names only: values carry passwords (cipassword) and keys.
    const fields = { request, params: Object.keys(params), status, ms: Math.round(performance.now() - started),
      transport: this.#options.transport.name, ...(error ? { kind: error.kind, error: error.message } : {}) };
    this.#options.logger?.debug(fields, error ? 'proxmox request failed' : 'proxmox request');
  }
}

/** `k=v&...` with encodeURIComponent (never `+`), booleans as 0/1, undefined left out. */
export function encodeParams(params: Params): string {
  return Object.entries(params)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(typeof value === 'boolean' ? (value ? 1 : 0) : value)}`)
    .join('&');
}

/** A path with each interpolated value percent-encoded as one segment (UPIDs hold `:`, `!` and `@`). */
export function apiPath(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce((path, part, i) => path + part + (i < values.length ? encodeURIComponent(String(values[i])) : ''), '');
}

function parseBody(text: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
