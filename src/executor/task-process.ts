/**
 * The I/O shell around one task's OS processes: launches the supervisor
 * (./supervisor/task-supervisor.mjs) detached, learns the task's pid (= its
 * process group id), signals the group, and resolves `exited` the instant the
 * supervisor exits (child 'exit' event) with what it recorded.
 *
 * A re-attached process (after an agent restart) is no longer our child: it is
 * watched by polling /proc/<supervisorPid>/stat every `REATTACH_POLL_MS`,
 * comparing the process start time so a reused PID is never mistaken for it.
 * Invariant: `exited` resolves exactly once; signals go to -pgid only, never
 * to a PID we cannot prove is ours.
 */
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { CygnetError } from '../common/errors.ts';

/** How often a re-attached (non-child) supervisor is checked for liveness. */
export const REATTACH_POLL_MS = 200;

const SUPERVISOR_PATH = fileURLToPath(new URL('./supervisor/task-supervisor.mjs', import.meta.url));

export interface TaskExit {
  /** Exit status when the task exited normally. */
  code: number | null;
  /** Signal name (e.g. SIGKILL) when the task was terminated by a signal. */
  signal: string | null;
  /** Set when the task could not be spawned at all. */
  error?: string;
}

export interface LaunchSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
  /** The sandbox: working directory, and where stdout/stderr go. */
  cwd: string;
  logCapBytes: number;
  /** Where the supervisor records the exit (inside the sandbox). */
  exitPath: string;
}

/** What the checkpoint keeps to find the processes again after a restart. */
export interface ProcessIdentity {
  supervisorPid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): guards against PID reuse. */
  supervisorStartTime: string;
  /** The task's pid, also its process group id. */
  taskPid: number;
}

export function describeExit(exit: TaskExit | undefined): string {
  if (exit === undefined) return 'exit status unknown';
  if (exit.error !== undefined) return `Failed to launch command: ${exit.error}`;
  if (exit.signal !== null) return `Command terminated by signal ${exit.signal}`;
  return `Command exited with status ${exit.code ?? 'unknown'}`;
}

/** Start time of `pid` from /proc, or undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); start time is field 22.
    if (fields[0] === 'Z') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Kills an orphaned task group found only through the supervisor's pid file
 * (the agent died between spawning and checkpointing the pid). The pid is
 * trusted only if /proc/<pid>/cwd is the sandbox, so a reused pid is never hit.
 */
export function killOrphanInSandbox(pidFile: string, sandbox: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(pid) || pid <= 1) return false;
  try {
    if (realpathSync(`/proc/${pid}/cwd`) !== realpathSync(sandbox)) return false;
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

export function readExitFile(path: string): TaskExit | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null) return undefined;
    const r = v as Record<string, unknown>;
    const exit: TaskExit = {
      code: typeof r.code === 'number' ? r.code : null,
      signal: typeof r.signal === 'string' ? r.signal : null,
    };
    if (typeof r.error === 'string') exit.error = r.error;
    return exit;
  } catch {
    return undefined;
  }
}

export class TaskProcess {
  readonly identity: ProcessIdentity;
  /** Resolves once with the exit, or undefined if it could not be learned. */
  readonly exited: Promise<TaskExit | undefined>;

  private constructor(identity: ProcessIdentity, exited: Promise<TaskExit | undefined>) {
    this.identity = identity;
    this.exited = exited;
  }

  /** Spawns the supervisor; resolves when the task's pid is known (or the spawn failed). */
  static launch(spec: LaunchSpec): Promise<TaskProcess> {
    return new Promise((resolve, reject) => {
      const sup = spawn(process.execPath, [SUPERVISOR_PATH, JSON.stringify(spec)], {
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
      const supervisorPid = sup.pid;
      if (supervisorPid === undefined) {
        sup.once('error', (e) => reject(new CygnetError('CYG_INTERNAL', `cannot start task supervisor: ${e.message}`)));
        return;
      }
      const startTime = processStartTime(supervisorPid) ?? '';
      const exited = new Promise<TaskExit | undefined>((res) => {
        sup.once('exit', (code, signal) => {
          const rec = readExitFile(spec.exitPath);
          res(rec ?? { code: null, signal: null, error: `task supervisor died (${signal ?? `status ${code}`})` });
        });
      });
      sup.unref();
      let line = '';
      let settled = false;
      const settle = (taskPid: number) => {
        if (settled) return;
        settled = true;
        resolve(new TaskProcess({ supervisorPid, supervisorStartTime: startTime, taskPid }, exited));
      };
      sup.stdout?.setEncoding('utf8');
      sup.stdout?.on('data', (chunk: string) => {
        line += chunk;
        const nl = line.indexOf('\n');
        if (nl < 0) return;
        try {
          const v = JSON.parse(line.slice(0, nl)) as { pid?: unknown };
          settle(typeof v.pid === 'number' ? v.pid : 0);
        } catch {
          settle(0);
        }
      });
      sup.stdout?.on('end', () => settle(0));
      (sup.stdout as { unref?: () => void } | null)?.unref?.();
    });
  }

  /**
   * Re-attaches to a supervisor started by a previous agent. `exited` resolves
   * when /proc shows it gone (or a different process under that pid).
   */
  static reattach(identity: ProcessIdentity, exitPath: string, clock: Clock): TaskProcess {
    let timer: TimerHandle | undefined;
    let stopped = false;
    const exited = new Promise<TaskExit | undefined>((resolve) => {
      const check = () => {
        if (stopped) return;
        if (processStartTime(identity.supervisorPid) === identity.supervisorStartTime) {
          timer = clock.setTimer(REATTACH_POLL_MS, check);
          return;
        }
        resolve(readExitFile(exitPath));
      };
      check();
    });
    const proc = new TaskProcess(identity, exited);
    proc.stopWatching = () => {
      stopped = true;
      timer?.cancel();
    };
    return proc;
  }

  /** Stops polling a re-attached process (the agent is closing; the task keeps running). */
  detach(): void {
    this.stopWatching();
  }

  private stopWatching: () => void = () => undefined;

  /** Whether the supervisor recorded in `identity` is still alive (same start time). */
  static isAlive(identity: ProcessIdentity): boolean {
    return processStartTime(identity.supervisorPid) === identity.supervisorStartTime;
  }

  /** Sends `signal` to the task's process group; false if there is none. */
  signalGroup(signal: NodeJS.Signals): boolean {
    if (this.identity.taskPid <= 0) return false;
    try {
      process.kill(-this.identity.taskPid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
