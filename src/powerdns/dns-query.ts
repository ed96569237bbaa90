import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { canonicalIPv6, canonicalName } from './canonical.ts';

/**
 * Asks one authoritative server one question over UDP, without recursion, and reads the answer: the only way to
 * know a record is served (the API answering 204 says it is stored). Node's Resolver cannot show the AA flag or
 * tell NODATA from an empty answer, so this is a small RFC 1035 client: A, AAAA, PTR, CNAME, SOA.
 */

export const rrTypes = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28 } as const;
export type QueryType = keyof typeof rrTypes;
const typeNames = new Map<number, string>(Object.entries(rrTypes).map(([name, code]) => [code, name]));

export const rcodes = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'] as const;

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  /** Canonical text: dotted quad, RFC 5952 IPv6, absolute names; SOA gives its serial. */
  data: string;
}

export interface DnsResponse {
  rcode: string;
  authoritative: boolean;
  answers: DnsAnswer[];
}

export interface DnsServer {
  host: string;
  port: number;
}

export async function queryDns(server: DnsServer, name: string, type: QueryType,
  { timeoutMs = 2000, attempts = 2 } = {}): Promise<DnsResponse> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await queryOnce(server, name, type, timeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function queryOnce(server: DnsServer, name: string, type: QueryType, timeoutMs: number): Promise<DnsResponse> {
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, name, rrTypes[type]);
  const socket = dgram.createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
  return new Promise<DnsResponse>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no DNS answer from ${server.host}:${server.port} within ${timeoutMs} ms`)),
      timeoutMs);
    function finish(error: Error | null, response?: DnsResponse) {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(response!);
    }
    socket.on('error', (error) => finish(error));
    socket.on('message', (message) => {
      if (message.length < 12 || message.readUInt16BE(0) !== id) return; // not our answer
      try {
        finish(null, decodeResponse(message));
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.send(query, server.port, server.host);
  });
}

export function encodeQuery(id: number, name: string, type: number): Buffer {
  const labels = canonicalName(name).split('.').filter(Boolean);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0000, 2); // standard query, recursion not desired
  header.writeUInt16BE(1, 4); // one question
  parts.push(header);
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3); // class IN
  parts.push(tail);
  return Buffer.concat(parts);
}

export function decodeResponse(message: Buffer): DnsResponse {
  const flags = message.readUInt16BE(2);
  const questions = message.readUInt16BE(4);
  const answerCount = message.readUInt16BE(6);
  let offset = 12;
  for (let i = 0; i < questions; i++) offset = readName(message, offset).next + 4;
  const answers: DnsAnswer[] = [];
  for (let i = 0; i < answerCount; i++) {
    const owner = readName(message, offset);
    offset = owner.next;
    const type = message.readUInt16BE(offset);
    const ttl = message.readUInt32BE(offset + 4);
    const length = message.readUInt16BE(offset + 8);
    const start = offset + 10;
    offset = start + length;
    answers.push({ name: owner.name, type: typeNames.get(type) ?? String(type), ttl, data: readData(message, type, start, length) });
  }
  return { rcode: rcodes[flags & 0x0f] ?? String(flags & 0x0f), authoritative: (flags & 0x0400) !== 0, answers };
}

function readData(message: Buffer, type: number, start: number, length: number): string {
  switch (type) {
    case rrTypes.A: return [...message.subarray(start, start + 4)].join('.');
    case rrTypes.AAAA: {
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(message.readUInt16BE(start + i).toString(16));
      return canonicalIPv6(groups.join(':'))!;
    }
    case rrTypes.PTR: case rrTypes.CNAME: case rrTypes.NS: return readName(message, start).name;
    case rrTypes.SOA: {
      const mname = readName(message, start);
      const rname = readName(message, mname.next);
      return String(message.readUInt32BE(rname.next));
    }
    default: return message.subarray(start, start + length).toString('hex');
  }
}

/** A possibly compressed name (RFC 1035 4.1.4); `next` is the offset after it in the record. */
function readName(message: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let position = offset;
  for (let jumps = 0; jumps < 64; jumps++) {
    const length = message[position];
    if (length === undefined) throw new Error('truncated DNS name');
    if ((length & 0xc0) === 0xc0) {
      if (next < 0) next = position + 2;
      position = ((length & 0x3f) << 8) | message[position + 1]!;
      continue;
    }
    if (length === 0) {
      if (next < 0) next = position + 1;
      return { name: `${labels.join('.').toLowerCase()}.`, next };
    }
    labels.push(message.subarray(position + 1, position + 1 + length).toString('ascii'));
    position += 1 + length;
  }
  throw new Error('DNS name compression loop');
}
