/**
 * The I/O shell around one task's OS processes: launches the supervisor
 * (./supervisor/task-supervisor.sh under /bin/sh) detached, learns the task's
 * pid (= its process group id), signals the group, and resolves `exited` the
 * instant the supervisor exits (child 'exit' event) with what it recorded.
 *
 * A re-attached process (after an agent restart) is no longer our child: it is
 * watched by polling /proc/<supervisorPid>/stat every `REATTACH_POLL_MS`,
 * comparing the process start time so a reused PID is never mistaken for it.
 * Invariant: `exited` resolves exactly once; signals go to -pgid only, never
 * to a PID we cannot prove is ours. A task file that cannot be executed is
 * refused before anything is spawned (ENOENT/EACCES, as node's spawn said).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { CygnetError } from '../common/errors.ts';

/** How often a re-attached (non-child) supervisor is checked for liveness. */
export const REATTACH_POLL_MS = 200;

const SUPERVISOR_PATH = fileURLToPath(new URL('./supervisor/task-supervisor.sh', import.meta.url));

/** The shell that runs the supervisor script (dash on Debian). */
const SHELL = '/bin/sh';

/** Absolute path of a system tool the supervisor needs (util-linux, coreutils: Essential on Debian). */
function systemTool(name: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const p = `${dir}/${name}`;
    if (existsSync(p)) return p;
  }
  throw new CygnetError('CYG_CONFIG', `cannot start task supervisor: '${name}' not found in /usr/bin, /bin, /usr/sbin or /sbin`);
}

let toolsCache: string[] | undefined;
/** [setsid, env, sync, mv], resolved once. */
function supervisorTools(): string[] {
  toolsCache ??= ['setsid', 'env', 'sync', 'mv'].map(systemTool);
  return toolsCache;
}

/** While a new task has not yet become its own group leader, it is re-checked this often. */
export const GROUP_POLL_MS = 2;
/** Longest wait for a new task to become its own group leader before it is reported anyway. */
export const GROUP_WAIT_MAX_MS = 10_000;

/** Process group id of `pid` from /proc (zombies included), or undefined if there is no such process. */
export function processGroupId(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name: state ppid pgrp ...
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/**
 * Resolves once `pid` leads its own process group (setsid(1) ran), or is
 * gone, or after GROUP_WAIT_MAX_MS; at once for pid <= 0.
 */
export function waitForOwnGroup(pid: number): Promise<void> {
  return new Promise((resolve) => {
    if (pid <= 0) {
      resolve();
      return;
    }
    const deadline = Date.now() + GROUP_WAIT_MAX_MS;
    const check = () => {
      const pgid = processGroupId(pid);
      if (pgid === undefined || pgid === pid || Date.now() >= deadline) resolve();
      else setTimeout(check, GROUP_POLL_MS);
    };
    check();
  });
}

/** An Error carrying an errno-style code, worded as node's spawn words it. */
function spawnError(code: 'ENOENT' | 'EACCES', file: string): Error {
  return Object.assign(new Error(`${code}: spawn ${file} ${code}`), { code });
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that `file` resolves to an executable as execvp would (relative to
 * `cwd` when it has a '/', else through PATH); throws ENOENT / EACCES.
 */
export function checkExecutable(file: string, cwd: string, pathVar: string | undefined): void {
  if (file === '') throw spawnError('ENOENT', file);
  if (file.includes('/')) {
    const p = path.resolve(cwd, file);
    if (isExecutableFile(p)) return;
    throw spawnError(existsSync(p) ? 'EACCES' : 'ENOENT', file);
  }
  let found = false;
  for (const dir of (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.resolve(cwd, dir === '' ? '.' : dir, file);
    if (isExecutableFile(p)) return;
    if (existsSync(p)) found = true;
  }
  throw spawnError(found ? 'EACCES' : 'ENOENT', file);
}

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
  /** Cap per log file; enforced by the agent (log-cap.ts), not by the supervisor. */
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
      try {
        checkExecutable(spec.file, spec.cwd, spec.env.PATH);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      let tools: string[];
      try {
        tools = supervisorTools();
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      const sup = spawn(SHELL, [SUPERVISOR_PATH, spec.exitPath, ...tools, spec.file, ...spec.args], {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
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
        // The pid is printed right after the fork; signals to -pid only work once setsid(1) has run.
        void waitForOwnGroup(taskPid).then(() => {
          resolve(new TaskProcess({ supervisorPid, supervisorStartTime: startTime, taskPid }, exited));
        });
      };
      sup.stdout?.setEncoding('utf8');
      sup.stdout?.on('data', (chunk: string) => {
        line += chunk;
        const nl = line.indexOf('\n');
        if (nl < 0) return;
        const pid = Number(line.slice(0, nl).trim());
        settle(Number.isSafeInteger(pid) && pid > 0 ? pid : 0);
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
