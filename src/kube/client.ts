import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A small Kubernetes HTTP client: client-node only reads the kubeconfig (or the in-cluster service account) and
 * fills in TLS and credentials; requests and watches are ours, so timeouts, 410 and error bodies are handled
 * the way the bridge needs (client-node's watch aborts or stalls silently, see the notes).
 */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly retryAfterMs: number | null;
  constructor(status: number, reason: string, message: string, retryAfterMs: number | null = null) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: any;
}

export type PatchType = 'merge' | 'json';
const patchTypes: Record<PatchType, string> = { merge: 'application/merge-patch+json', json: 'application/json-patch+json' };

export interface KubeClientOptions {
  /** A kubeconfig file; without it, the in-cluster service account. */
  kubeconfigPath?: string;
  requestTimeoutMs?: number;
}

export class KubeClient {
  private readonly config = new KubeConfig();
  private readonly server: URL;
  private readonly requestTimeoutMs: number;

  constructor({ kubeconfigPath, requestTimeoutMs = 30_000 }: KubeClientOptions) {
    if (kubeconfigPath) this.config.loadFromFile(kubeconfigPath);
    else this.config.loadFromCluster();
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no current cluster');
    this.server = new URL(cluster.server);
    this.requestTimeoutMs = requestTimeoutMs;
  }

  /** The namespace of the kubeconfig's current context (or `default`). */
  get defaultNamespace(): string {
    const context = this.config.getContextObject(this.config.getCurrentContext());
    return context?.namespace ?? 'default';
  }

  private async open(method: string, path: string, headers: Record<string, string>, timeoutMs: number,
    signal?: AbortSignal, body?: string): Promise<http.IncomingMessage> {
    const options: https.RequestOptions = { method, headers: { accept: 'application/json', ...headers },
      hostname: this.server.hostname, port: this.server.port, path: `${this.server.pathname.replace(/\/$/, '')}${path}` };
    const secure = this.server.protocol === 'https:';
    if (secure) {
      await this.config.applyToHTTPSOptions(options);
    } else {
      // client-node refuses plain HTTP; it is only for a local apiserver (tests, kubectl proxy): send a token if any.
      const token = this.config.getCurrentUser()?.token;
      if (token) options.headers = { ...options.headers, authorization: `Bearer ${token}` };
    }
    const transport = secure ? https : http;
    // An abort that came before this call would never fire the listener below: a watch would then live on.
    if (signal?.aborted) throw new Error('aborted');
    return new Promise((resolve, reject) => {
      const request = transport.request(options, resolve);
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer from the kube-apiserver in ${timeoutMs} ms`)));
      request.on('error', reject);
      signal?.addEventListener('abort', () => request.destroy(new Error('aborted')), { once: true });
      request.end(body);
    });
  }

  async request<T = any>(method: string, path: string, body?: unknown, patchType?: PatchType): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = text === undefined ? {}
      : { 'content-type': patchType ? patchTypes[patchType] : 'application/json', 'content-length': String(Buffer.byteLength(text)) };
    const response = await this.open(method, path, headers, this.requestTimeoutMs, undefined, text);
    return this.finish(response);
  }

  private async finish(response: http.IncomingMessage): Promise<any> {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    let parsed: any;
    try { parsed = raw ? JSON.parse(raw) : undefined; } catch { parsed = undefined; }
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return parsed;
    const retryAfter = Number(response.headers['retry-after']);
    throw new KubeApiError(status, parsed?.reason ?? 'Unknown', parsed?.message ?? `HTTP ${status}`,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null);
  }

  /**
   * Streams a watch's events to `onEvent` until the server closes it, `signal` aborts, or nothing (not even a
   * bookmark) arrives for `inactivityMs`: a half-open connection is then cut rather than waited on forever.
   */
  async watch(path: string, onEvent: (event: WatchEvent) => Promise<void> | void,
    { signal, inactivityMs }: { signal: AbortSignal; inactivityMs: number }): Promise<void> {
    const response = await this.open('GET', path, {}, inactivityMs, signal);
    if ((response.statusCode ?? 0) >= 300) return this.finish(response);
    let buffer = '';
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => response.destroy(new Error(`watch inactive for ${inactivityMs} ms`)), inactivityMs);
    };
    arm();
    try {
      for await (const chunk of response) {
        arm();
        buffer += (chunk as Buffer).toString();
        let index: number;
        while ((index = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, index).trim();
          buffer = buffer.slice(index + 1);
          if (line) await onEvent(JSON.parse(line) as WatchEvent);
        }
      }
    } finally {
      clearTimeout(idle);
    }
  }
}
