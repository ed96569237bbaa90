import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { freePort } from '../net/free-port.ts';
import { recordOwner, stopLeftoverServers } from '../util/leftover-servers.ts';
import { PowerDnsClient } from './client.ts';

/**
 * Runs a real PowerDNS Authoritative server (`pdns_server` from the Debian package) with the sqlite3 backend in a
 * directory of its own, on loopback and free ports: `cloudpods dev` and the test harness both start it here.
 */

export const installHint = 'install PowerDNS with `apt-get install pdns-server pdns-backend-sqlite3`';

const binaryCandidates = ['/usr/sbin/pdns_server', '/usr/local/sbin/pdns_server', '/usr/bin/pdns_server'];
const schemaCandidates = [
  '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql',
  '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql',
  '/usr/local/share/doc/pdns/schema.sqlite3.sql',
];
const backendCandidates = [
  '/usr/lib/x86_64-linux-gnu/pdns/libgsqlite3backend.so',
  '/usr/lib/aarch64-linux-gnu/pdns/libgsqlite3backend.so',
  '/usr/lib/pdns/libgsqlite3backend.so',
  '/usr/local/lib/pdns/libgsqlite3backend.so',
];

/** Where pdns_server and the sqlite3 schema are, or null when PowerDNS is not installed here. */
export function findPowerDns(): { binary: string; schema: string } | null {
  const onPath = (process.env.PATH ?? '').split(':').map((dir) => path.join(dir, 'pdns_server'));
  const binary = [...binaryCandidates, ...onPath].find((file) => existsSync(file));
  const schema = schemaCandidates.find((file) => existsSync(file));
  const backend = backendCandidates.some((file) => existsSync(file));
  return binary && schema && backend ? { binary, schema } : null;
}

export interface EmbeddedPowerDnsOptions {
  /** Holds the sqlite database, configuration and key; reused when it exists (dev keeps its zones). */
  dataDir: string;
  onLog?: (line: string) => void;
}

export interface EmbeddedPowerDns {
  apiUrl: string;
  apiKey: string;
  serverId: string;
  dnsHost: string;
  dnsPort: number;
  /** Stops the server; `start` brings it back on the same ports with the same data (outage tests). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

interface Saved {
  apiKey: string;
}

export async function startEmbeddedPowerDns({ dataDir, onLog = () => {} }: EmbeddedPowerDnsOptions): Promise<EmbeddedPowerDns> {
  const found = findPowerDns();
  if (!found) throw new Error(`pdns_server with the sqlite3 backend was not found: ${installHint}`);
  const dir = path.resolve(dataDir);
  await fs.mkdir(dir, { recursive: true });
  const database = path.join(dir, 'pdns.sqlite3');
  const savedFile = path.join(dir, 'credentials.json');
  const saved: Saved = existsSync(savedFile) && existsSync(database)
    ? JSON.parse(await fs.readFile(savedFile, 'utf8'))
    : { apiKey: randomBytes(24).toString('base64url') };
  if (!existsSync(database)) {
    const sqlite = new DatabaseSync(database);
    sqlite.exec(await fs.readFile(found.schema, 'utf8'));
    sqlite.close();
  }
  await fs.writeFile(savedFile, JSON.stringify(saved), { mode: 0o600 });

  const [apiPort, dnsPort] = [await freePort(), await freeUdpAndTcpPort()];
  const config = [
    'launch=gsqlite3',
    `gsqlite3-database=${database}`,
    'local-address=127.0.0.1',
    `local-port=${dnsPort}`,
    'api=yes',
    `api-key=${saved.apiKey}`,
    'webserver=yes',
    'webserver-address=127.0.0.1',
    `webserver-port=${apiPort}`,
    'webserver-allow-from=127.0.0.0/8',
    `socket-dir=${dir}`,
    'daemon=no',
    'guardian=no',
    'disable-syslog=yes',
    'write-pid=no',
    // No security-status lookups to the internet, and no caches: one process, and the API purges them anyway.
    'security-poll-suffix=',
    'cache-ttl=0',
    'query-cache-ttl=0',
    'negquery-cache-ttl=0',
    'loglevel=4',
  ].join('\n');
  await fs.writeFile(path.join(dir, 'pdns.conf'), `${config}\n`, { mode: 0o600 });

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');

  async function start(): Promise<void> {
    const tail: string[] = [];
    const proc = spawn(found!.binary, [`--config-dir=${dir}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    process.on('exit', killOnExit);
    const collect = (chunk: Buffer) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLog(line);
      }
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    let exited: number | string | null = null;
    proc.once('exit', (code, signal) => { exited = signal ?? code; });
    const client = new PowerDnsClient({ apiUrl, apiKey: saved.apiKey, requestTimeoutMs: 1000 });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (exited !== null) throw new Error(`pdns_server exited (${exited}) while starting:\n${tail.join('\n')}`);
      try {
        await client.server();
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          proc.kill('SIGKILL');
          throw new Error(`pdns_server did not answer on ${apiUrl} within 20 s:\n${tail.join('\n')}`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    child = undefined;
    process.off('exit', killOnExit);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  // A pdns_server left running by a process that died without stopping it would serve this directory forever.
  await stopLeftoverServers(dir, 'pdns_server', (argv) => path.basename(argv[0] ?? '') === 'pdns_server'
    && argv.includes(`--config-dir=${dir}`));
  await start();
  await recordOwner(dir);
  return { apiUrl, apiKey: saved.apiKey, serverId: 'localhost', dnsHost: '127.0.0.1', dnsPort, stop, start };
}

/** A port free for both UDP and TCP on loopback: PowerDNS listens on both. */
async function freeUdpAndTcpPort(): Promise<number> {
  const dgram = await import('node:dgram');
  for (let tries = 0; tries < 20; tries++) {
    const port = await freePort();
    const free = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}
