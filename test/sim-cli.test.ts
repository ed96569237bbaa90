import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../src/config.ts';
import { proxmoxClientFromConfig } from '../src/proxmox/from-config.ts';

const test = suite('cloudpods sim');

test('--nodes 3 --json prints one JSON line that configures a CloudPods client over either transport', async () => {
  const child = spawn(process.execPath, ['src/cli.ts', 'sim', '--nodes', '3', '--json', '--fast'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const [first] = (await once(lines, 'line')) as [string];
    const described = JSON.parse(first);
    assert.match(described.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(described.tlsFingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.match(described.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.type(described.sshPort, 'number');
    assert.match(described.tokenId, /^root@pam!/);
    assert.equal(described.nodes, ['pve1', 'pve2', 'pve3']);
    for (const transport of ['https', 'ssh']) {
      const config = loadConfig({ mode: 'dev', env: { ...described.env, CLOUDPODS_PROXMOX_TRANSPORT: transport } });
      assert.is(config.proxmox.ssh.privateKey, readFileSync(described.sshPrivateKeyFile, 'utf8').trim());
      const client = proxmoxClientFromConfig(config.proxmox);
      try {
        assert.equal((await client.nodes()).map((n) => n.node), ['pve1', 'pve2', 'pve3']);
      } finally {
        await client.close();
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = await once(child, 'exit');
  assert.is(code, 0);
});

test.run();
