import { randomInt } from 'node:crypto';
import { encodeUpid, type UpidFields } from './format/upid.ts';

/**
 * Worker tasks as PVE runs them: each gets a UPID naming its node, a log, and when it stops an exit status of
 * `OK`, `WARNINGS: <n>` or the error text (the log's last line is then `TASK ERROR: <text>`).
 */

export interface SimTask extends UpidFields {
  upid: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  endtime?: number;
  log: string[];
}

export interface TaskContext {
  log(line: string): void;
  /** A warning line; the task ends with `WARNINGS: <n>` instead of `OK`. */
  warn(line: string): void;
  sleep(ms: number): Promise<void>;
}

/** Outcomes forced by the fault API: fail with a message, or succeed with warnings. */
export interface ForcedOutcome {
  type: string;
  id?: string;
  fail?: string;
  warnings?: number;
}

/** The task list as the state file keeps it (src/sim/proxmox/state-file.ts). */
export interface SimTasksState {
  nextPid: number;
  tasks: SimTask[];
}

export class SimTasks {
  readonly #tasks = new Map<string, SimTask>();
  readonly #forced: ForcedOutcome[] = [];
  #pid = randomInt(10_000, 60_000);
  readonly #pstart = randomInt(1_000_000, 9_000_000);
  readonly #running = new Set<Promise<void>>();
  readonly #onChange: () => void;

  /** `onChange` hears every task start and end: tasks change the cluster after their request was answered. */
  constructor(onChange: () => void = () => {}) {
    this.#onChange = onChange;
  }

  /** The next task of this type (and id, if given) ends as told. */
  force(outcome: ForcedOutcome): void {
    this.#forced.push(outcome);
  }

  start(node: string, type: string, id: string, user: string, work: (task: TaskContext) => Promise<void>): string {
    // A UPID's fields are colon-separated, so a volume id as task id has its colons escaped.
    const fields = { node, pid: this.#pid++, pstart: this.#pstart, starttime: Math.floor(Date.now() / 1000), type,
      id: id.replace(/:/g, '\\x3A'), user };
    const upid = encodeUpid(fields);
    const task: SimTask = { upid, ...fields, status: 'running', log: [] };
    this.#tasks.set(upid, task);
    const forcedAt = this.#forced.findIndex((f) => f.type === type && (f.id === undefined || f.id === id));
    const forced = forcedAt >= 0 ? this.#forced.splice(forcedAt, 1)[0] : undefined;
    const running = this.#run(task, work, forced).finally(() => {
      this.#running.delete(running);
      this.#onChange();
    });
    this.#running.add(running);
    this.#onChange();
    return upid;
  }

  get(upid: string): SimTask | undefined {
    return this.#tasks.get(upid);
  }

  list(node: string): SimTask[] {
    return [...this.#tasks.values()].filter((task) => task.node === node).sort((a, b) => b.starttime - a.starttime);
  }

  state(): SimTasksState {
    return { nextPid: this.#pid, tasks: [...this.#tasks.values()] };
  }

  /** Replaces the task list with a saved one; new tasks continue its pid counter, so UPIDs stay unique. */
  restore(state: SimTasksState): void {
    this.#tasks.clear();
    for (const task of state.tasks) this.#tasks.set(task.upid, task);
    this.#pid = Math.max(this.#pid, state.nextPid);
  }

  /** Resolves when every task has stopped (for a clean shutdown of the simulator). */
  async settle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  async #run(task: SimTask, work: (task: TaskContext) => Promise<void>, forced: ForcedOutcome | undefined): Promise<void> {
    let warnings = 0;
    const context: TaskContext = {
      log: (line) => { task.log.push(line); },
      warn: (line) => { warnings += 1; task.log.push(`WARN: ${line}`); },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
    await Promise.resolve(); // The caller gets the UPID before any work happens, as with a forked worker.
    try {
      if (forced?.fail) throw new Error(forced.fail);
      await work(context);
      for (let i = 0; i < (forced?.warnings ?? 0); i++) context.warn(`simulated warning ${i + 1}`);
      task.exitstatus = warnings > 0 ? `WARNINGS: ${warnings}` : 'OK';
      task.log.push(warnings > 0 ? `TASK WARNINGS: ${warnings}` : 'TASK OK');
    } catch (error) {
      const text = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
      task.exitstatus = text;
      task.log.push(`TASK ERROR: ${text}`);
    }
    task.status = 'stopped';
    task.endtime = Math.floor(Date.now() / 1000);
  }
}
