import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../observability/logger.ts';
import type { SimCluster, SimVm, SimVolume } from './cluster.ts';
import type { SimTask, SimTasks, SimTasksState } from './tasks.ts';

/**
 * The simulated cluster kept on disk, so that `cloudpods dev` finds its VMs again after a stop or a crash, as it
 * would find a real cluster: nodes, VMs (config, pending changes, power state), every volume on every storage,
 * and the task list with its pid counter. Locks held by running work and the fault rules are not kept.
 */

const format = 'cloudpods-sim-state/1';
/** The task list is the simulator's log, not its state: the newest are kept so the file stays small. */
const keptTasks = 1000;
const saveDelayMs = 200;
/** What PVE reports for a worker that vanished (its node went down under it). */
const interruptedStatus = 'unexpected status';
/** The config lock each kind of task holds while it runs, and undoes when it fails. */
const lockOfTask: Record<string, string> = { qmclone: 'clone', vzdump: 'backup', qmdestroy: 'destroyed' };

interface SavedVm extends Omit<SimVm, 'pendingDelete'> {
  pendingDelete: string[];
}

export interface SimState {
  format: typeof format;
  nodes: Array<{ name: string; online: boolean }>;
  vms: SavedVm[];
  volumes: SimVolume[];
  tasks: SimTasksState;
}

export function captureState(cluster: SimCluster, tasks: SimTasks): SimState {
  const { nextPid, tasks: list } = tasks.state();
  return {
    format,
    nodes: [...cluster.nodes.values()].map(({ name, online }) => ({ name, online })),
    vms: [...cluster.vms.values()].map((vm) => ({ ...vm, pendingDelete: [...vm.pendingDelete] })),
    volumes: [...cluster.volumes.values()],
    tasks: { nextPid, tasks: list.sort((a, b) => a.starttime - b.starttime).slice(-keptTasks) },
  };
}

/**
 * What a saved state means once the simulator that saved it is gone: tasks it was running were cut off, so they
 * end as PVE shows a vanished worker, and their half-done work is undone as their own failure would have done
 * (a clone's new VM removed: it gets its disks only as the clone ends; a backup's or destroy's lock released). Pure.
 */
export function afterInterruption(state: SimState, now = Date.now()): SimState {
  const interrupted = state.tasks.tasks.filter((task) => task.status === 'running');
  if (interrupted.length === 0) return state;
  const releasedLocks = new Set(interrupted.map((task) => lockOfTask[task.type]).filter((lock) => lock !== undefined));
  const abandonedClones = new Set(state.vms.filter((vm) => releasedLocks.has('clone') && vm.config.lock === 'clone')
    .map((vm) => vm.vmid));
  const vms = state.vms.filter((vm) => !abandonedClones.has(vm.vmid)).map((vm) => {
    if (vm.config.lock === undefined || !releasedLocks.has(vm.config.lock)) return vm;
    const { lock: _released, ...config } = vm.config;
    return { ...vm, config };
  });
  const tasks = state.tasks.tasks.map((task): SimTask => task.status !== 'running' ? task : {
    ...task, status: 'stopped', exitstatus: interruptedStatus, endtime: Math.floor(now / 1000),
    log: [...task.log, `TASK ERROR: ${interruptedStatus}`],
  });
  return { ...state, vms, tasks: { ...state.tasks, tasks } };
}

export function restoreState(cluster: SimCluster, tasks: SimTasks, state: SimState): void {
  for (const node of state.nodes) {
    const known = cluster.nodes.get(node.name);
    if (known) known.online = node.online;
  }
  cluster.vms.clear();
  for (const vm of state.vms) cluster.vms.set(vm.vmid, { ...vm, pendingDelete: new Set(vm.pendingDelete) });
  cluster.volumes.clear();
  for (const volume of state.volumes) cluster.volumes.set(volume.volid, volume);
  tasks.restore(state.tasks);
}

/** The saved state, or undefined when there is none yet; a file that is not one is an error naming it. */
export async function readSimState(file: string): Promise<SimState | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let state: SimState | undefined;
  try {
    state = JSON.parse(text) as SimState;
  } catch {
    state = undefined;
  }
  if (state?.format !== format) {
    throw new Error(`${file} is not a Proxmox simulator state (${format}): move it away, or start clean (cloudpods dev --reset)`);
  }
  return state;
}

/**
 * Saves the state a short while after it changed (changes meanwhile go in the same write) and on flush, each time
 * to a temporary file renamed over the old one, so a crash leaves the previous state or the new one, never half.
 */
export class SimStateSaver {
  readonly #file: string;
  readonly #capture: () => SimState;
  readonly #logger: Logger | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;
  #written = '';

  constructor(file: string, capture: () => SimState, logger?: Logger) {
    this.#file = file;
    this.#capture = capture;
    this.#logger = logger;
  }

  changed(): void {
    this.#dirty = true;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#writing = this.#writing.then(() => this.#save());
    }, saveDelayMs);
    this.#timer.unref();
  }

  /** Writes what is not saved yet and resolves once it is on disk. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing = this.#writing.then(() => this.#save());
    await this.#writing;
  }

  async #save(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const text = `${JSON.stringify(this.#capture())}\n`;
    if (text === this.#written) return;
    try {
      await writeAtomically(this.#file, text);
      this.#written = text;
    } catch (error) {
      this.#dirty = true;
      this.#logger?.warn({ err: error, file: this.#file }, 'could not save the simulator state; trying again at the next change');
    }
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
}
