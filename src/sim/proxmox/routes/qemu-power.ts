import { failure, TaskError } from '../api-error.ts';
import type { SimVm } from '../cluster.ts';
import { agentFormat, ipconfigFormat, netFormat } from '../format/formats.ts';
import { parseProperties } from '../format/property-string.ts';
import { agentNotRunning, alreadyRunning, noAgentConfigured } from '../messages.ts';
import { bool, int, isTrue, nodeSpec, str, vmidSpec, type ParamSpecs } from '../params.ts';
import type { Route, RouteRequest } from '../router.ts';
import { vmSummary } from './cluster.ts';
import { assertUnlocked, requestedVm, startTask, underVmLock } from './common.ts';

/** Power state, start/stop/shutdown and the guest agent's view of the network. */

const vmPath: ParamSpecs = { node: nodeSpec, vmid: vmidSpec };

export const qemuPowerRoutes: Route[] = [
  {
    method: 'GET', path: '/nodes/{node}/qemu/{vmid}/status/current', params: vmPath,
    handle: (request) => {
      const vm = requestedVm(request);
      return {
        ...vmSummary(request.sim, vm), qmpstatus: vm.running ? (vm.paused ? 'paused' : 'running') : 'stopped', ha: { managed: 0 },
        agent: agentEnabled(vm) ? 1 : 0, ...(vm.running ? { pid: 10_000 + vm.vmid } : {}),
      };
    },
  },
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/status/start', privilege: 'VM.PowerMgmt',
    params: { ...vmPath, skiplock: bool, timeout: int, machine: str, 'force-cpu': str },
    handle: (request) => powerTask(request, 'qmstart', async (vm) => {
      if (vm.running) throw new TaskError(alreadyRunning(vm.vmid));
      request.sim.cluster.applyPending(vm);
      vm.running = true;
      vm.startedAt = Date.now();
      vm.agentReadyAt = agentEnabled(vm) ? Date.now() + request.sim.durations.agentStartMs : undefined;
    }, request.sim.durations.startMs),
  },
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/status/stop', privilege: 'VM.PowerMgmt',
    params: { ...vmPath, skiplock: bool, timeout: int, keepActive: bool, 'overrule-shutdown': bool },
    handle: (request) => powerTask(request, 'qmstop', async (vm) => {
      powerOff(vm);
    }, request.sim.durations.stopMs),
  },
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/status/shutdown', privilege: 'VM.PowerMgmt',
    params: { ...vmPath, skiplock: bool, timeout: int, forceStop: bool, keepActive: bool },
    handle: (request) => powerTask(request, 'qmshutdown', async (vm, sleep) => {
      if (!vm.running) throw new TaskError(`VM ${vm.vmid} not running`);
      // With agent=1 PVE asks the agent; when none answers the shutdown hangs until its timeout.
      if (agentEnabled(vm) && !agentAnswers(vm)) {
        const timeoutMs = Number(request.params.timeout ?? 600) * 1000;
        await sleep(Math.min(timeoutMs, request.sim.durations.shutdownHangMs));
        if (!isTrue(request.params.forceStop)) throw new TaskError('VM quit/powerdown failed - got timeout');
      }
      powerOff(vm);
    }, request.sim.durations.shutdownMs),
  },
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/status/reboot', privilege: 'VM.PowerMgmt',
    params: { ...vmPath, timeout: int },
    handle: (request) => powerTask(request, 'qmreboot', async (vm, sleep) => {
      if (!vm.running) throw new TaskError(`VM ${vm.vmid} not running`);
      // A clean reboot goes through the guest (the agent with agent=1): a guest that does not answer never reboots.
      if (agentEnabled(vm) && !agentAnswers(vm)) {
        await sleep(Math.min(Number(request.params.timeout ?? 600) * 1000, request.sim.durations.shutdownHangMs));
        throw new TaskError('VM quit/powerdown failed - got timeout');
      }
      request.sim.cluster.applyPending(vm);
      vm.startedAt = Date.now();
      vm.agentReadyAt = agentEnabled(vm) ? Date.now() + request.sim.durations.agentStartMs : undefined;
    }, request.sim.durations.shutdownMs),
  },
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/status/resume', privilege: 'VM.PowerMgmt',
    params: { ...vmPath, skiplock: bool, nocheck: bool },
    handle: (request) => powerTask(request, 'qmresume', async (vm) => {
      if (!vm.running) throw new TaskError(`VM ${vm.vmid} not running`);
      vm.paused = false;
    }, 0),
  },
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/status/reset', privilege: 'VM.PowerMgmt',
    params: { ...vmPath, skiplock: bool },
    handle: (request) => powerTask(request, 'qmreset', async (vm) => {
      if (!vm.running) throw new TaskError(`VM ${vm.vmid} not running`);
      // A hard reset: the guest boots again, its agent with it.
      vm.paused = false;
      vm.agentHung = false;
      vm.startedAt = Date.now();
      vm.agentReadyAt = agentEnabled(vm) ? Date.now() + request.sim.durations.agentStartMs : undefined;
    }, 0),
  },
  {
    method: 'POST', path: '/nodes/{node}/qemu/{vmid}/agent/ping', params: vmPath,
    handle: async (request) => {
      const vm = requestedVm(request);
      if (!agentEnabled(vm)) throw failure(noAgentConfigured);
      if (!vm.running) throw failure(`VM ${vm.vmid} is not running`);
      // A hung agent never answers: Proxmox gives up after its own timeout, the client usually sooner.
      if (vm.agentHung) await new Promise((resolve) => setTimeout(resolve, request.sim.durations.shutdownHangMs));
      if (!agentAnswers(vm)) throw failure(agentNotRunning);
      return { result: {} };
    },
  },
  {
    method: 'GET', path: '/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces', params: vmPath,
    handle: (request) => {
      const vm = requestedVm(request);
      if (!agentEnabled(vm)) throw failure(noAgentConfigured);
      if (!vm.running) throw failure(`VM ${vm.vmid} is not running`);
      if (!agentAnswers(vm)) throw failure(agentNotRunning);
      return { result: guestInterfaces(vm) };
    },
  },
];

function powerTask(request: RouteRequest, type: string, change: (vm: SimVm, sleep: (ms: number) => Promise<void>) => Promise<void>,
  durationMs: number): string {
  const vm = requestedVm(request);
  return startTask(request, type, vm.vmid, (task) => underVmLock(request, vm.vmid, async () => {
    assertUnlocked(vm, isTrue(request.params.skiplock));
    await task.sleep(durationMs);
    await change(vm, task.sleep);
  }));
}

function powerOff(vm: SimVm): void {
  vm.running = false;
  vm.paused = false;
  vm.startedAt = undefined;
  vm.agentReadyAt = undefined;
}

function agentEnabled(vm: SimVm): boolean {
  const agent = vm.config.agent;
  return agent !== undefined && parseProperties(agent, agentFormat).get('enabled') === '1';
}

function agentAnswers(vm: SimVm): boolean {
  return vm.running && !vm.paused && !vm.agentHung && vm.agentReadyAt !== undefined && Date.now() >= vm.agentReadyAt;
}

/** What qemu-guest-agent reports: loopback, then one interface per netN with its MAC and an address. */
function guestInterfaces(vm: SimVm): unknown[] {
  const interfaces: unknown[] = [{
    name: 'lo', 'hardware-address': '00:00:00:00:00:00',
    'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }, { 'ip-address': '::1', 'ip-address-type': 'ipv6', prefix: 128 }],
  }];
  const nets = Object.keys(vm.config).filter((key) => /^net\d+$/.test(key)).sort();
  for (const key of nets) {
    const index = Number(key.slice(3));
    const mac = (parseProperties(vm.config[key]!, netFormat).get('macaddr') ?? '').toLowerCase();
    const ipconfig = vm.config[`ipconfig${index}`];
    const ip = ipconfig ? parseProperties(ipconfig, ipconfigFormat).get('ip') : undefined;
    const [address, prefix] = ip && ip !== 'dhcp' ? ip.split('/') : [`10.${(vm.vmid >> 8) & 255}.${vm.vmid & 255}.${10 + index}`, '24'];
    interfaces.push({
      name: `eth${index}`, 'hardware-address': mac,
      'ip-addresses': [
        { 'ip-address': address, 'ip-address-type': 'ipv4', prefix: Number(prefix) },
        { 'ip-address': `fe80::be24:11ff:fe00:${(vm.vmid & 0xffff).toString(16)}`, 'ip-address-type': 'ipv6', prefix: 64 },
      ],
      statistics: { 'rx-bytes': 1024, 'tx-bytes': 2048, 'rx-packets': 10, 'tx-packets': 20, 'rx-errs': 0, 'tx-errs': 0, 'rx-dropped': 0, 'tx-dropped': 0 },
    });
  }
  return interfaces;
}
