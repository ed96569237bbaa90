import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkRequest, checkResponse, findEndpoint, loadApiSchemas } from './support/proxmox-schema.ts';

const test = suite('proxmox schema check: bad requests fail naming the parameter');
const schemas = loadApiSchemas();

test('both schema versions load (or the check says it is off)', () => {
  if (!schemas) return;
  assert.equal(schemas.map((s) => s.version), ['9.1', '8.4']);
  assert.ok(Object.keys(schemas[0]!.entries).length > 600);
  assert.equal(findEndpoint(schemas[0]!, 'GET', '/nodes/pve1/qemu/105/status/current'),
    { key: 'GET /nodes/{node}/qemu/{vmid}/status/current', pathParams: { node: 'pve1', vmid: '105' } });
});

const clone = '/nodes/pve1/qemu/9000/clone';
const config = '/nodes/pve1/qemu/105/config';
const cases: Array<{ what: string; method: string; path: string; params: Record<string, string>; problem?: RegExp }> = [
  { what: 'a good clone', method: 'POST', path: clone, params: { newid: '105', name: 'web-1', full: '1', storage: 'local-lvm' } },
  { what: 'a good config write', method: 'POST', path: config, params: {
    net0: 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1', scsi1: 'local-lvm:10,iothread=1', memory: '2048',
    sshkeys: 'ssh-ed25519%20AAAA%2B%2F%3D%20a%40b', tags: 'cloudpods-x;web', ipconfig0: 'ip=10.0.0.5/24,gw=10.0.0.1',
    cicustom: 'user=local:snippets/u.yaml', delete: 'ciuser,unused0', digest: 'a'.repeat(40) } },
  { what: 'newid missing', method: 'POST', path: clone, params: { name: 'x' }, problem: /required parameter "newid" is missing/ },
  { what: 'an underscore in a DNS name', method: 'POST', path: clone, params: { newid: '105', name: 'web_1' }, problem: /parameter "name": format dns-name/ },
  { what: 'an unknown parameter', method: 'POST', path: clone, params: { newid: '105', colour: 'red' }, problem: /parameter "colour" is not defined/ },
  { what: 'a value off the enum', method: 'POST', path: clone, params: { newid: '105', format: 'vdi' }, problem: /parameter "format": "vdi" is not one of raw, qcow2, vmdk/ },
  { what: 'a VMID out of range', method: 'POST', path: clone, params: { newid: '42' }, problem: /parameter "newid": 42 is below the minimum 100/ },
  { what: 'a non-integer', method: 'POST', path: clone, params: { newid: 'abc' }, problem: /parameter "newid": "abc" is not an integer/ },
  { what: 'sshkeys with + for spaces', method: 'POST', path: config, params: { sshkeys: 'ssh-rsa+AAAA' }, problem: /parameter "sshkeys": format urlencoded/ },
  { what: 'a bad tag', method: 'POST', path: config, params: { tags: 'web;-x' }, problem: /parameter "tags": format pve-tag-list/ },
  { what: 'an unknown NIC model', method: 'POST', path: config, params: { net0: 'realtek,bridge=vmbr0' }, problem: /parameter "net0": property "model": "realtek" is not one of/ },
  { what: 'a disk without a volume', method: 'POST', path: config, params: { scsi0: 'size=10G' }, problem: /parameter "scsi0": required property "file" is missing/ },
  { what: 'a relative size pattern gone wrong', method: 'PUT', path: '/nodes/pve1/qemu/105/resize', params: { disk: 'scsi0', size: '10 GB' }, problem: /parameter "size": "10 GB" does not match/ },
  { what: 'an unknown endpoint', method: 'POST', path: '/nodes/pve1/qemu/105/teleport', params: {}, problem: /POST \/nodes\/pve1\/qemu\/105\/teleport is not an endpoint/ },
];

for (const c of cases) {
  test(`${c.what}${c.problem ? ' is reported' : ' passes'}`, () => {
    if (!schemas) return;
    for (const schema of schemas) {
      const problems = checkRequest(schema, c.method, c.path, c.params);
      if (!c.problem) assert.equal(problems, [], `${schema.version}: ${problems.join('; ')}`);
      else assert.ok(problems.some((p) => c.problem!.test(p) && p.includes(`PVE ${schema.version}`)), `${schema.version}: ${problems.join('; ')}`);
    }
  });
}

test('answers are checked against returns: types, required fields, enums, null for sync calls', () => {
  if (!schemas) return;
  const schema = schemas[0]!;
  assert.equal(checkResponse(schema, 'GET', '/cluster/nextid', '105'), [], 'Perl numbers as strings pass');
  assert.equal(checkResponse(schema, 'PUT', '/nodes/pve1/qemu/105/config', null), []);
  assert.match(checkResponse(schema, 'PUT', '/nodes/pve1/qemu/105/config', 'UPID:x').join(), /should be null/);
  assert.match(checkResponse(schema, 'GET', '/nodes/pve1/tasks/UPID:x/status', { status: 'done' }).join(),
    /data\.status = "done" is not one of running, stopped/);
  assert.match(checkResponse(schema, 'GET', '/nodes/pve1/qemu/105/config', { name: 'x' }).join(), /data\.digest is missing/);
});

test.run();
