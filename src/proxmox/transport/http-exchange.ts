import https from 'node:https';
import { RequestTimeoutError, type WireRequest, type WireResponse } from './transport.ts';

/** One HTTP request over an agent whose sockets the transport makes (TLS direct, or TLS through SSH). */
export function exchange(agent: https.Agent, host: string, port: number, request: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...request.headers, host: `${host}:${port}` };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    const req = https.request({ agent, host, port, method: request.method, path: request.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const timer = setTimeout(() => req.destroy(new RequestTimeoutError(`no answer within ${request.timeoutMs} ms`)), request.timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(request.body);
  });
}
