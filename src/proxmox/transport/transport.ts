/**
 * How requests reach the Proxmox API. Both transports speak the same HTTP/1.1 to pveproxy; they differ in the
 * path there: straight HTTPS, or HTTPS inside an SSH tunnel to the node's 127.0.0.1:8006.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface WireRequest {
  /** The node the path names, if any: the SSH transport connects to that node. */
  node: string | undefined;
  method: HttpMethod;
  /** `/api2/json/...` with the query string. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface WireResponse {
  status: number;
  /** The reason phrase: PVE puts the first line of an error message there. */
  statusMessage: string;
  body: string;
}

export interface ProxmoxTransport {
  readonly name: 'https' | 'ssh';
  send(request: WireRequest): Promise<WireResponse>;
  close(): Promise<void>;
}

/** Raised when a request runs longer than its timeout; classified as transient. */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
  readonly code = 'ETIMEDOUT';
}
