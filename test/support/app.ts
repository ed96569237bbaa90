import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.ts';
import { SystemEventSink } from '../../src/observability/event-sink.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { startSystem, type RunningSystem } from '../../src/system.ts';
import { reportFailure } from './report.ts';

export interface TestResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, else the text. */
  body: any;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestApp {
  url: string;
  system: RunningSystem;
  /** The app's logger and its system_events sink. */
  logger: Logger;
  events: SystemEventSink;
  config: Config;
  /** Every log line the app wrote, as text, for assertions on logging and redaction. */
  logLines: string[];
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  databaseUrl: string;
  /** A Proxmox client (usually the suite's simulator's): the pod controller runs only with one. */
  proxmox?: ProxmoxClient;
  /** Configuration overrides by dotted path, e.g. `{ 'server.bodyLimitBytes': 2048 }`. */
  overrides?: Record<string, unknown>;
  logLevel?: string;
}

/** Starts the real system in this process on a free loopback port, against the given database. */
export function startTestApp(options: TestAppOptions): Promise<TestApp> {
  return reportFailure('startTestApp', () => createTestApp(options));
}

async function createTestApp({ databaseUrl, proxmox, overrides = {}, logLevel = 'info' }: TestAppOptions)
  : Promise<TestApp> {
  const config = loadConfig({
    mode: 'dev',
    env: {},
    overrides: { 'server.port': 0, 'server.host': '127.0.0.1', 'log.level': logLevel, ...overrides },
  });
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const events = new SystemEventSink({ onWriteError: (error) => process.stderr.write(`system_events sink: ${error.message}\n`) });
  const logger = createLogger({ level: config.log.level, destination, eventSink: events });
  const system = await startSystem({ config, logger, databaseUrl, events, ...(proxmox ? { proxmox } : {}) });
  const url = system.http.url;

  async function request(method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined && body === undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${url}${path}`, { method, headers, body });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').includes('json');
    return { status: response.status, headers: response.headers, body: isJson && text ? JSON.parse(text) : text };
  }

  return { url, system, logger, events, config, logLines, request, stop: () => system.stop() };
}
