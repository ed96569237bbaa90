import { sql } from 'kysely';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { volumeSerial } from '../controllers/volume/disks.ts';
import { startPlatform, waitForPod, type Platform } from './support/platform.ts';
import { assertConformanceAfterEach } from './support/proxmox-sim.ts';
import { waitFor } from './support/wait.ts';

/**
 * Crashes in the middle of every volume step: the Proxmox call succeeds, then the database write that follows it
 * fails once (a trigger raising on that write), as if the process died between the two. The job is retried and
 * must converge without a second disk, a leftover unused disk or a lost one.
 */
const test = suite('volume steps survive crashes');
let platform: Platform;
let podId: string;
let vmid: number;

test.before(async () => {
  platform = await startPlatform({ transport: 'https' });
  const created = await api('POST', '/api/cloud-pods', { name: 'crashy', template: 'debian-12', cpu_cores: 1,
    memory_mb: 1024, disk_gb: 8 });
  podId = created.body.pod.id;
  vmid = (await waitForPod(platform, podId, 'active', (p) => p?.status.phase === 'active')).status.vmid;
});
test.after(async () => { await platform?.stop(); });
test.after.each(async () => {
  await sql.raw(`drop trigger if exists crash_once on cloud_pod_volumes; drop function if exists crash_once();
    drop sequence if exists crash_once;`).execute(platform.database.db);
  platform.sim.sim.faults.clear();
});
assertConformanceAfterEach(test, () => platform?.sim);

function api(method: string, path: string, body?: unknown) {
  return platform.app.request(method, path, { token: platform.token, ...(body === undefined ? {} : { body }) });
}
const base = () => `/api/cloud-pods/${podId}/volumes`;
const config = () => platform.sim.sim.cluster.vms.get(vmid)!.config;

/** The database write matching `when` fails once, before it happens. Answers whether it did fail. */
async function crashOnce(event: 'update' | 'delete', when: string): Promise<() => Promise<boolean>> {
  const { db } = platform.database;
  await sql.raw(`create sequence crash_once;
    create function crash_once() returns trigger language plpgsql as $$
    begin
      -- nextval is not rolled back with the failing statement, so the crash happens exactly once.
      if nextval('crash_once') = 1 then raise exception 'simulated crash before this write'; end if;
      return coalesce(new, old);
    end $$;
    create trigger crash_once before ${event} on cloud_pod_volumes for each row when (${when}) execute function crash_once();`)
    .execute(db);
  return async () => (await sql<{ called: boolean }>`select is_called as called from crash_once`.execute(db)).rows[0]!.called;
}

async function waitForVolume(id: string, what: string, accept: (volume: any) => boolean): Promise<any> {
  return waitFor(`volume ${what}`, async () => {
    const response = await api('GET', `${base()}/${id}`);
    return response.status === 404 ? null : response.body.volume;
  }, accept, { timeoutMs: 20_000, intervalMs: 50 });
}
const converged = (phase: string) => (v: any) => v?.status.phase === phase
  && v.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True')
  && v.status.observed_generation === v.status.generation;

/** Every disk of the VM on its storage, and every config key referring to one: what a leak or duplicate shows in. */
function inventory() {
  const stored = [...platform.sim.sim.cluster.volumes.values()].filter((v) => v.vmid === vmid).map((v) => v.volid).sort();
  const referenced = Object.entries(config()).filter(([key]) => /^(scsi|unused)\d+$/.test(key))
    .map(([key, value]) => `${key}=${value.split(',')[0]}`).sort();
  return { stored, referenced };
}

/** A volume of the pod, ordered and attached without a crash, for a test to crash a later step of: its id and volid. */
async function anAttachedVolume(name: string, size_gb = 4): Promise<{ id: string; volid: string }> {
  const created = await api('POST', base(), { name, size_gb });
  assert.is(created.status, 202, JSON.stringify(created.body));
  const volume = await waitForVolume(created.body.volume.id, `${name} attached`, converged('attached'));
  return { id: volume.id, volid: volume.status.proxmox_volume_id };
}

test('crash after the disk was allocated, before its task was recorded: the disk is adopted, not made twice', async () => {
  const before = inventory();
  const fired = await crashOnce('update', `new.task_upid is not null and old.task_upid is null and new.pod_id = '${podId}'`);
  const created = await api('POST', base(), { name: 'data', size_gb: 4 });
  const id = created.body.volume.id;
  const volume = await waitForVolume(id, 'attached', converged('attached'));
  assert.ok(await fired(), 'the crash happened');
  const volid = volume.status.proxmox_volume_id;
  const after = inventory();
  assert.equal(after.stored, [...before.stored, volid].sort(), 'exactly one new disk');
  assert.equal(after.referenced, [...before.referenced, `${volume.status.slot}=${volid}`].sort(), 'referenced once');
  assert.match(config()[volume.status.slot]!, new RegExp(`serial=${volumeSerial(id)}`));
});

test('crash after the detach, before its write: the volume settles detached as one unused disk', async () => {
  const { id, volid } = await anAttachedVolume('detached-1');
  const fired = await crashOnce('update', `old.slot is not null and new.slot is null and new.id = '${id}'`);
  await api('POST', `${base()}/${id}/detach`);
  await waitForVolume(id, 'detached', converged('detached'));
  assert.ok(await fired(), 'the crash happened');
  const unused = inventory().referenced.filter((r) => r.endsWith(`=${volid}`));
  assert.is(unused.length, 1);
  assert.match(unused[0]!, /^unused\d+=/);
});

test('crash after the attach was submitted, before its task was recorded: attached once, same volume', async () => {
  const { id, volid } = await anAttachedVolume('attached-1');
  await api('POST', `${base()}/${id}/detach`);
  await waitForVolume(id, 'detached', converged('detached'));
  const before = inventory();
  const fired = await crashOnce('update', `new.task_upid is not null and old.task_upid is null and new.id = '${id}'`);
  await api('POST', `${base()}/${id}/attach`);
  const volume = await waitForVolume(id, 'attached', converged('attached'));
  assert.ok(await fired(), 'the crash happened');
  assert.is(volume.status.proxmox_volume_id, volid);
  assert.equal(inventory().stored, before.stored, 'no disk made or lost');
  assert.ok(inventory().referenced.includes(`${volume.status.slot}=${volid}`));
});

test('crash after the resize was submitted: the retry asks for the same absolute size, grown once', async () => {
  const { id, volid } = await anAttachedVolume('resized-1');
  const fired = await crashOnce('update', `new.task_upid is not null and old.task_upid is null and new.id = '${id}'`);
  await api('POST', `${base()}/${id}/resize`, { size_gb: 9 });
  const volume = await waitForVolume(id, 'grown', (v) => converged('attached')(v) && v.spec.size_gb === 9);
  assert.ok(await fired(), 'the crash happened');
  assert.is(platform.sim.sim.cluster.volumes.get(volid)!.sizeBytes, 9 * 1024 ** 3, 'not 14 GiB');
  assert.match(config()[volume.status.slot]!, /size=9G/);
});

test('a storage lock on the allocation is retried; one disk results', async () => {
  const before = inventory();
  let failures = 0;
  const stop = platform.sim.sim.onExchange((exchange) => {
    if (exchange.method === 'POST' && exchange.path.endsWith('/config') && exchange.status === 500) {
      failures += 1;
      platform.sim.sim.faults.clear();
    }
  });
  platform.sim.sim.faults.addErrorRule({ method: 'POST', path: `/qemu/${vmid}/config$`, rate: 1, status: 500,
    message: "can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout" });
  try {
    const created = await api('POST', base(), { name: 'second', size_gb: 2 });
    const volume = await waitForVolume(created.body.volume.id, 'attached', converged('attached'));
    assert.is(failures, 1);
    assert.equal(inventory().stored, [...before.stored, volume.status.proxmox_volume_id].sort());
    const attempts = await platform.database.db.selectFrom('job_attempts as a').innerJoin('jobs as j', 'j.id', 'a.job_id')
      .select('a.error').where('j.key', '=', `volume:${created.body.volume.id}`).where('a.error', 'is not', null).execute();
    assert.ok(attempts.some((a) => /can't lock file/.test(a.error!)), 'the lock was reported as the failure');
  } finally {
    stop();
  }
});

test('crash after the disk was destroyed, before the row was removed: gone, and nothing else touched', async () => {
  const { id, volid } = await anAttachedVolume('doomed-1');
  const before = inventory();
  const others = before.stored.filter((v) => v !== volid);
  const fired = await crashOnce('delete', `old.id = '${id}'`);
  await api('DELETE', `${base()}/${id}`);
  await waitForVolume(id, 'gone', (v) => v === null);
  assert.ok(await fired(), 'the crash happened');
  const after = inventory();
  assert.equal(after.stored, others, 'only this volume\'s disk is gone');
  assert.ok(after.referenced.every((r) => !r.endsWith(`=${volid}`)));
  assert.equal(after.referenced, before.referenced.filter((r) => !r.endsWith(`=${volid}`)));
});

test.run();
