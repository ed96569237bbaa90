import type { SimStats } from './stats.ts';
import type { SimContext } from './router.ts';

/**
 * The fault API over HTTP, for benchmarks and tests that drive a simulator in another process (the same
 * operations as `simulator.faults`). Every call needs the API token.
 *
 *   POST /_sim/latency       {"ms": 200, "path": "^/nodes/pve1/"}
 *   POST /_sim/errors        {"path": "/clone$", "method": "POST", "rate": 0.5, "status": 500, "message": "..."}
 *   POST /_sim/lock-file     {"vmid": 105, "ms": 5000}
 *   POST /_sim/config-lock   {"vmid": 105, "lock": "backup"}      (null clears it)
 *   POST /_sim/node          {"node": "pve2", "online": false}
 *   POST /_sim/vm-stop       {"vmid": 105}                        (stopped out of band)
 *   POST /_sim/vm-pause      {"vmid": 105}                        (paused out of band)
 *   POST /_sim/agent-hang    {"vmid": 105, "hung": true}          (the guest agent stops answering)
 *   POST /_sim/storage-content {"storage": "local-lvm", "content": ["iso", "backup"]}
 *   POST /_sim/task-outcome  {"type": "qmstart", "warnings": 2} | {"type": "qmclone", "fail": "..."}
 *   DELETE /_sim/faults      clears latency, error rules, offline nodes and storage content changes
 *   GET /_sim/stats          request counts and the highest concurrency seen per node and storage
 */
export async function handleFaultApi(sim: SimContext, stats: SimStats, method: string, path: string,
  body: Record<string, any>): Promise<{ status: number; body: unknown }> {
  const faults = sim.faults;
  const ok = { status: 200, body: { data: null } };
  const route = `${method} ${path}`;
  try {
    switch (route) {
      case 'POST /_sim/latency': faults.addLatency({ ms: Number(body.ms), path: body.path }); return ok;
      case 'POST /_sim/errors':
        faults.addErrorRule({ method: body.method, path: String(body.path), rate: Number(body.rate ?? 1),
          status: Number(body.status ?? 500), message: String(body.message ?? 'simulated failure') });
        return ok;
      case 'POST /_sim/lock-file': await faults.holdLockFile(Number(body.vmid), Number(body.ms)); return ok;
      case 'POST /_sim/config-lock': faults.setConfigLock(Number(body.vmid), body.lock ?? undefined); return ok;
      case 'POST /_sim/node': faults.setNodeOnline(String(body.node), Boolean(body.online)); return ok;
      case 'POST /_sim/vm-stop': faults.stopVmOutOfBand(Number(body.vmid)); return ok;
      case 'POST /_sim/vm-pause': faults.pauseVmOutOfBand(Number(body.vmid)); return ok;
      case 'POST /_sim/agent-hang': faults.setAgentHung(Number(body.vmid), body.hung !== false); return ok;
      case 'POST /_sim/storage-content': faults.setStorageContent(String(body.storage), (body.content ?? []).map(String)); return ok;
      case 'POST /_sim/task-outcome': faults.forceTaskOutcome({ type: String(body.type), id: body.id, fail: body.fail, warnings: body.warnings }); return ok;
      case 'DELETE /_sim/faults': faults.clear(); return ok;
      case 'GET /_sim/stats':
        return { status: 200, body: { data: {
          requests: stats.requests,
          maxInFlightByNode: Object.fromEntries(stats.maxInFlightByNode),
          maxInFlightByStorage: Object.fromEntries(stats.maxInFlightByStorage),
        } } };
      default: return { status: 404, body: { data: null, message: `no fault API ${route}\n` } };
    }
  } catch (error) {
    return { status: 400, body: { data: null, message: `${(error as Error).message}\n` } };
  }
}
