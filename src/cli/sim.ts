import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../observability/logger.ts';
import { fastDurations } from '../sim/proxmox/options.ts';
import { startProxmoxSimulator } from '../sim/proxmox/simulator.ts';
import { print, untilStopSignal, UsageError } from './common.ts';

export const simUsage = `cloudpods sim [--nodes N] [--json] [--fast] [--host H] [--port N] [--ssh-port N]
  A simulated Proxmox VE cluster: the /api2/json API over HTTPS (API token) and SSH with forwarding to it and
  SFTP into the snippets directory. Certificates, host key, login key and token are new at every start.
  --nodes N     cluster size (default 3)
  --json        print one JSON line (URL, SSH port, fingerprints, token, key file) instead of a banner
  --fast        test durations (clones in 150 ms) instead of realistic ones
  --port N      HTTPS port (default any free); --ssh-port N likewise`;

export async function simCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true,
    options: {
      nodes: { type: 'string', default: '3' }, json: { type: 'boolean', default: false }, fast: { type: 'boolean', default: false },
      host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' }, 'ssh-port': { type: 'string', default: '0' },
    },
  });
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new UsageError('--nodes: expected a whole number from 1 to 64');
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', service: 'sim' });
  const sim = await startProxmoxSimulator({
    nodes, host: values.host, httpsPort: Number(values.port), sshPort: Number(values['ssh-port']), logger,
    ...(values.fast ? { durations: fastDurations } : {}),
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudpods-sim-'));
  const sshPrivateKeyFile = path.join(dir, 'id_ed25519');
  const caFile = path.join(dir, 'pve-root-ca.pem');
  writeFileSync(sshPrivateKeyFile, sim.sshPrivateKey!, { mode: 0o600 });
  writeFileSync(caFile, sim.caCertificate);
  const description = {
    url: sim.url, nodes: sim.nodes, sshHost: sim.host, sshPort: sim.sshPort, sshUser: sim.sshUser, sshPrivateKeyFile,
    hostKeyFingerprint: sim.hostKeyFingerprint, tlsFingerprint: sim.tlsFingerprint, caFile,
    tokenId: sim.token.id, tokenSecret: sim.token.secret,
    // The same, as CloudPods configuration, so `env $(...)` can point a CloudPods at the simulator.
    env: {
      CLOUDPODS_PROXMOX_URL: sim.url, CLOUDPODS_PROXMOX_TOKEN_ID: sim.token.id, CLOUDPODS_PROXMOX_TOKEN_SECRET: sim.token.secret,
      CLOUDPODS_PROXMOX_TLS_FINGERPRINT: sim.tlsFingerprint, CLOUDPODS_PROXMOX_SSH_PORT: String(sim.sshPort),
      CLOUDPODS_PROXMOX_SSH_PRIVATE_KEY_FILE: sshPrivateKeyFile, CLOUDPODS_PROXMOX_SSH_HOST_KEY_FINGERPRINT: sim.hostKeyFingerprint,
    },
  };
  if (values.json) print(JSON.stringify(description));
  else printBanner(description);
  const signal = await untilStopSignal();
  logger.info({ signal }, 'stopping the simulator');
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
  return 0;
}

function printBanner(d: { url: string; nodes: string[]; sshPort: number; sshUser: string; sshPrivateKeyFile: string;
  hostKeyFingerprint: string; tlsFingerprint: string; caFile: string; tokenId: string; tokenSecret: string }): void {
  print('');
  print(`Proxmox VE simulator: ${d.nodes.length} nodes (${d.nodes.join(', ')})`);
  print(`  API            ${d.url}/api2/json`);
  print(`  token          PVEAPIToken=${d.tokenId}=${d.tokenSecret}`);
  print(`  TLS            SHA-256 ${d.tlsFingerprint} (CA ${d.caFile})`);
  print(`  SSH            ${d.sshUser}@127.0.0.1 -p ${d.sshPort} -i ${d.sshPrivateKeyFile}`);
  print(`  host key       ${d.hostKeyFingerprint}`);
  print('');
  print('Try:');
  print(`  curl --cacert ${d.caFile} -H 'Authorization: PVEAPIToken=${d.tokenId}=${d.tokenSecret}' ${d.url}/api2/json/cluster/resources`);
  print('');
}
