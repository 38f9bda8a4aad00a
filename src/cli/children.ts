/**
 * ChildGroup: the thin I/O shell `cygnet local` uses to run daemons as child
 * processes. It starts each child, forwards its stdout/stderr line by line
 * with a `[name] ` prefix, and on `stopAll()` sends SIGTERM to every child
 * (in reverse start order, so agents go before the master), escalating to
 * SIGKILL after a grace period.
 *
 * Invariants: every child started is in `children` until it exits; after
 * `stopAll()` resolves no child is running. Adding a daemon to the local
 * cluster is one more `start(spec)`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { launcherPidEnv } from './launcher-watch.ts';

export interface ChildSpec {
  /** Short name used as the log prefix, e.g. `master`, `agent-1`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /**
   * Start the child in a session of its own (setsid), as a service manager
   * gives each service its own cgroup. With the kernel's autogroup
   * scheduling (Debian's default) a session is one scheduling group: the
   * proxy, left in one group with the tasks it forwards to, was preempted by
   * every backend it woke (docs/benchmarks.md, "Each balancer in a session
   * of its own"). Such a child no longer gets the terminal's Ctrl-C or
   * hang-up itself: `stopAll` stops it, if this process exits without
   * stopping it, it is killed on the way out, and if this process is killed
   * outright, a cygnet daemon stops itself (./launcher-watch.ts).
   */
  readonly ownSession?: boolean;
}

export interface RunningChild {
  readonly spec: ChildSpec;
  readonly startedAtMs: number;
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How long a child gets to shut down cleanly after SIGTERM before SIGKILL. */
export const stopGraceMs = 10_000;

export type LineSink = (line: string) => void;

export class ChildGroup {
  readonly children: RunningChild[] = [];
  private stopping = false;
  private exitHookSet = false;

  constructor(
    private readonly out: LineSink,
    private readonly onUnexpectedExit: (child: RunningChild, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {}

  start(spec: ChildSpec): RunningChild {
    const ownSession = spec.ownSession === true;
    const proc = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env, ...(ownSession ? { [launcherPidEnv]: String(process.pid) } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownSession,
    });
    if (ownSession) this.watchOnExit();
    const exited = once(proc, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    const child: RunningChild = { spec, startedAtMs: Date.now(), process: proc, exited };
    this.children.push(child);
    this.forward(spec.name, proc);
    proc.on('error', (err) => this.out(`[${spec.name}] failed to start: ${err.message}`));
    void exited.then(({ code, signal }) => {
      this.children.splice(this.children.indexOf(child), 1);
      if (!this.stopping) this.onUnexpectedExit(child, code, signal);
    });
    return child;
  }

  /** Children in a session of their own are not signalled by the terminal: if this process exits with them still running, they go too. */
  private watchOnExit(): void {
    if (this.exitHookSet) return;
    this.exitHookSet = true;
    process.once('exit', () => {
      for (const c of this.children) {
        if (c.spec.ownSession !== true || c.process.exitCode !== null || c.process.signalCode !== null) continue;
        try {
          process.kill(-(c.process.pid as number), 'SIGKILL'); // its process group: a proxy's workers too
        } catch {
          // already gone
        }
      }
    });
  }

  /** SIGTERM to all (newest first), SIGKILL to those still running after `graceMs`. */
  async stopAll(graceMs = stopGraceMs): Promise<void> {
    this.stopping = true;
    const all = [...this.children].reverse();
    for (const c of all) {
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      for (const c of all) {
        if (c.process.exitCode === null && c.process.signalCode === null) {
          this.out(`[${c.spec.name}] did not stop within ${graceMs} ms; SIGKILL`);
          c.process.kill('SIGKILL');
        }
      }
    }, graceMs);
    await Promise.all(all.map((c) => c.exited));
    clearTimeout(timer);
  }

  private forward(name: string, proc: ChildProcess): void {
    for (const stream of [proc.stdout, proc.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.out(`[${name}] ${line}`);
      });
      stream?.on('end', () => {
        if (partial !== '') this.out(`[${name}] ${partial}`);
        partial = '';
      });
    }
  }
}
