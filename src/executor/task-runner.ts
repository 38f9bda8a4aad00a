/**
 * One task's lifecycle on this agent (the I/O shell; decisions are in
 * `computeTerminalStatus`, pure):
 *
 *   LAUNCH ─▶ STARTING (sandbox, fetch, spawn) ─▶ RUNNING ─▶ FINISHED (exit 0)
 *     │            │                                  │  └──▶ FAILED (exit ≠ 0 / signal)
 *     └── kill ────┴──▶ KILLED (never started)        └─kill─▶ KILLED
 *                  └── fetch/spawn error ─▶ FAILED (REASON_CONTAINER_LAUNCH_FAILED)
 *
 * No TASK_STAGING is emitted: as in Mesos, the master marks a task STAGING
 * itself when it relays the LAUNCH; the agent's first update is STARTING.
 * (The internal phase 'staging' = launched, `start()` not yet run.)
 *
 * Invariants: statuses are emitted in that order and exactly one terminal
 * status is emitted; the exit is seen the instant the supervisor exits; a kill
 * sends SIGTERM to the task's process group, then SIGKILL after the kill
 * policy's grace period (default DEFAULT_KILL_GRACE_MS). The supervisor start
 * goes through the optional `launchGate` (the agent's LaunchGate); a kill
 * while waiting there ends the task KILLED without spawning it. While the
 * task runs its stdout/stderr are checked against the cap every
 * LOG_CHECK_INTERVAL_MS, and trimmed once more when it exits, before the
 * terminal status (log-cap.ts).
 */
import path from 'node:path';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { describeError } from '../common/errors.ts';
import type { KillPolicy, Reason, Source, TaskInfo, TaskState } from './types.ts';
import { computeArgv, computeTaskEnv } from './task-env.ts';
import { EXIT_FILE, createSandbox } from './sandbox.ts';
import { LOG_CHECK_INTERVAL_MS, LOG_FILES, capFinishedLog, capLiveLog } from './log-cap.ts';
import { TaskProcess, describeExit, killOrphanInSandbox, type ProcessIdentity, type TaskExit } from './task-process.ts';

/** Mesos' default grace period between SIGTERM and SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 3000;
/** Default cap per log file (stdout, stderr); one rotated `.1` copy is kept. */
export const DEFAULT_LOG_CAP_BYTES = 10 * 1024 * 1024;

export type RunnerPhase = 'staging' | 'starting' | 'running' | 'killing' | 'terminated';

/** A status as the runner decides it; the agent adds uuid, ids, timestamp. */
export interface StatusDraft {
  state: TaskState;
  message?: string;
  reason?: Reason;
  source?: Source;
  healthy?: boolean;
}

export function describeDraft(d: StatusDraft): string {
  return `${d.state}${d.reason ? ` (${d.reason})` : ''}${d.message ? `: ${d.message}` : ''}`;
}

/** Fetches the task's URIs into the sandbox; throws with a message saying why it failed. */
export type FetchFn = (task: TaskInfo, sandbox: string, signal: AbortSignal) => Promise<void>;

export interface TaskRunnerOptions {
  task: TaskInfo;
  frameworkId: string;
  agentId: string;
  sandbox: string;
  host: string;
  clock: Clock;
  logCapBytes?: number;
  /** How often a running task's logs are checked against the cap (default LOG_CHECK_INTERVAL_MS). */
  logCheckIntervalMs?: number;
  fetch?: FetchFn;
  /** Called synchronously, in order, for every status the task goes through. */
  onStatus: (draft: StatusDraft) => void;
  /** Called once the processes exist, so they can be checkpointed. */
  onProcess?: (identity: ProcessIdentity) => void;
  /** Called when the task is running (health checks start here). */
  onRunning?: () => void;
  /** Bounds concurrent supervisor starts across tasks (the agent's LaunchGate); default: no bound. */
  launchGate?: <T>(fn: () => Promise<T>) => Promise<T>;
  inheritedEnv?: Record<string, string | undefined>;
}

export function killGraceMs(policy: KillPolicy | undefined): number {
  const ns = policy?.grace_period?.nanoseconds;
  if (typeof ns !== 'number' || !Number.isFinite(ns) || ns < 0) return DEFAULT_KILL_GRACE_MS;
  return Math.floor(ns / 1e6);
}

/** Pure: the terminal status for an exit. `unknown` = exit status unknowable (agent was down). */
export function computeTerminalStatus(exit: TaskExit | undefined, killed: boolean, recovered: boolean): StatusDraft {
  if (killed) return { state: 'TASK_KILLED', message: exit === undefined ? 'Task killed' : describeExit(exit), source: 'SOURCE_EXECUTOR' };
  if (exit === undefined) {
    return {
      state: 'TASK_FAILED',
      reason: 'REASON_EXECUTOR_TERMINATED',
      source: 'SOURCE_AGENT',
      message: recovered ? 'agent restarted and task exited; exit status unknown' : 'task exited; exit status unknown',
    };
  }
  if (exit.error !== undefined) {
    return { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', source: 'SOURCE_AGENT', message: describeExit(exit) };
  }
  if (exit.signal === null && exit.code === 0) {
    return { state: 'TASK_FINISHED', message: describeExit(exit), source: 'SOURCE_EXECUTOR' };
  }
  return { state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', source: 'SOURCE_EXECUTOR', message: describeExit(exit) };
}

export class TaskRunner {
  readonly task: TaskInfo;
  private readonly opts: TaskRunnerOptions;
  private phaseValue: RunnerPhase = 'staging';
  private proc: TaskProcess | undefined;
  private killRequested = false;
  private killTimer: TimerHandle | undefined;
  /** The next check of the task's logs against the cap (log-cap.ts) while it runs. */
  private logTimer: TimerHandle | undefined;
  private readonly fetchAbort = new AbortController();
  private terminalMessage: string | undefined;
  private recovered = false;
  private detached = false;
  private doneResolve!: () => void;
  /** Resolves after the terminal status was emitted. */
  readonly done: Promise<void>;

  constructor(opts: TaskRunnerOptions) {
    this.opts = opts;
    this.task = opts.task;
    this.done = new Promise((r) => { this.doneResolve = r; });
  }

  get phase(): RunnerPhase {
    return this.phaseValue;
  }

  /** The task's environment (health-check commands run with it, as in Mesos). */
  taskEnv(): Record<string, string> {
    try {
      return computeTaskEnv(this.task, {
        frameworkId: this.opts.frameworkId,
        agentId: this.opts.agentId,
        sandbox: this.opts.sandbox,
        host: this.opts.host,
        inherited: this.opts.inheritedEnv ?? process.env,
      });
    } catch {
      return {};
    }
  }

  get identity(): ProcessIdentity | undefined {
    return this.proc?.identity;
  }

  /** STARTING → (fetch, spawn) → RUNNING, then watches the exit. Never throws. */
  async start(): Promise<void> {
    if (this.killRequested) return this.terminate({ state: 'TASK_KILLED', message: 'Task killed before it started', source: 'SOURCE_AGENT' });
    this.phaseValue = 'starting';
    this.opts.onStatus({ state: 'TASK_STARTING', source: 'SOURCE_EXECUTOR' });
    let argv: { file: string; args: string[] };
    let env: Record<string, string>;
    try {
      argv = computeArgv(this.task.command);
      env = computeTaskEnv(this.task, {
        frameworkId: this.opts.frameworkId,
        agentId: this.opts.agentId,
        sandbox: this.opts.sandbox,
        host: this.opts.host,
        inherited: this.opts.inheritedEnv ?? process.env,
      });
      await createSandbox(this.opts.sandbox);
      if (this.opts.fetch && (this.task.command?.uris?.length ?? 0) > 0) {
        await this.opts.fetch(this.task, this.opts.sandbox, this.fetchAbort.signal);
      }
    } catch (err) {
      if (this.killRequested) return this.terminate({ state: 'TASK_KILLED', message: 'Task killed before it started', source: 'SOURCE_AGENT' });
      return this.terminate({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', source: 'SOURCE_AGENT', message: describeError(err) });
    }
    if (this.killRequested) return this.terminate({ state: 'TASK_KILLED', message: 'Task killed before it started', source: 'SOURCE_AGENT' });
    const spec = {
      ...argv,
      env,
      cwd: this.opts.sandbox,
      logCapBytes: this.opts.logCapBytes ?? DEFAULT_LOG_CAP_BYTES,
      exitPath: path.join(this.opts.sandbox, EXIT_FILE),
    };
    try {
      const gate = this.opts.launchGate ?? ((fn) => fn());
      const proc = await gate(async () => (this.killRequested ? undefined : TaskProcess.launch(spec)));
      if (proc === undefined) return this.terminate({ state: 'TASK_KILLED', message: 'Task killed before it started', source: 'SOURCE_AGENT' });
      this.proc = proc;
    } catch (err) {
      return this.terminate({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', source: 'SOURCE_AGENT', message: describeError(err) });
    }
    this.watch(this.proc);
    if (this.proc.identity.taskPid > 0 && this.phaseValue === 'starting') {
      this.opts.onProcess?.(this.proc.identity);
      this.phaseValue = 'running';
      this.opts.onStatus({ state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR' });
      this.opts.onRunning?.();
      if (this.killRequested) this.signalKill(this.pendingGraceMs);
    }
  }

  /** Takes over a task whose supervisor survived an agent restart (or has exited meanwhile). */
  recover(identity: ProcessIdentity): void {
    this.recovered = true;
    this.phaseValue = 'running';
    this.proc = TaskProcess.reattach(identity, path.join(this.opts.sandbox, EXIT_FILE), this.opts.clock);
    this.watch(this.proc);
  }

  /** Marks a checkpointed task whose processes are unknown (never spawned) as lost. */
  recoverWithoutProcess(): void {
    this.recovered = true;
    killOrphanInSandbox(path.join(this.opts.sandbox, `${EXIT_FILE}.pid`), this.opts.sandbox);
    this.terminate(computeTerminalStatus(undefined, false, true));
  }

  private pendingGraceMs = DEFAULT_KILL_GRACE_MS;

  /** Kills the task per `policy` (falls back to the task's own kill policy). Idempotent. */
  kill(policy?: KillPolicy, reason?: string): void {
    if (this.phaseValue === 'terminated') return;
    const graceMs = killGraceMs(policy ?? this.task.kill_policy);
    if (reason !== undefined) this.terminalMessage = reason;
    if (this.killRequested) {
      if (this.phaseValue === 'killing' && graceMs === 0) this.proc?.signalGroup('SIGKILL');
      return;
    }
    this.killRequested = true;
    this.pendingGraceMs = graceMs;
    if (this.phaseValue === 'staging' || this.phaseValue === 'starting') {
      this.fetchAbort.abort(new Error('task killed'));
      return;
    }
    this.signalKill(graceMs);
  }

  private signalKill(graceMs: number): void {
    this.phaseValue = 'killing';
    const proc = this.proc;
    if (proc === undefined) return;
    if (graceMs === 0) {
      proc.signalGroup('SIGKILL');
      return;
    }
    proc.signalGroup('SIGTERM');
    this.killTimer = this.opts.clock.setTimer(graceMs, () => { proc.signalGroup('SIGKILL'); });
  }

  /** The agent is going away: stop watching and reporting; the task keeps running. */
  detach(): void {
    this.detached = true;
    this.killTimer?.cancel();
    this.logTimer?.cancel();
    this.proc?.detach();
  }

  private watch(proc: TaskProcess): void {
    const cap = this.opts.logCapBytes ?? DEFAULT_LOG_CAP_BYTES;
    const interval = this.opts.logCheckIntervalMs ?? LOG_CHECK_INTERVAL_MS;
    const logs = LOG_FILES.map((name) => path.join(this.opts.sandbox, name));
    let exited = false;
    const checkLogs = () => {
      this.logTimer = undefined;
      void Promise.all(logs.map((f) => capLiveLog(f, cap))).then(() => {
        if (!exited && !this.detached) this.logTimer = this.opts.clock.setTimer(interval, checkLogs);
      });
    };
    this.logTimer = this.opts.clock.setTimer(this.recovered ? 0 : interval, checkLogs);
    void proc.exited.then(async (exit) => {
      exited = true;
      this.logTimer?.cancel();
      this.logTimer = undefined;
      if (this.detached) return;
      await Promise.all(logs.map((f) => capFinishedLog(f, cap)));
      if (this.detached) return;
      this.killTimer?.cancel();
      const draft = computeTerminalStatus(exit, this.killRequested, this.recovered);
      if (this.terminalMessage !== undefined && draft.state === 'TASK_KILLED') draft.message = this.terminalMessage;
      this.terminate(draft);
    });
  }

  private terminate(draft: StatusDraft): void {
    if (this.phaseValue === 'terminated' || this.detached) return;
    this.phaseValue = 'terminated';
    this.killTimer?.cancel();
    this.opts.onStatus(draft);
    this.doneResolve();
  }
}
