/**
 * Real child processes for integration tests, with guaranteed cleanup:
 * every process started through `spawnProcess` is registered, and
 * `killAllProcesses()` (call it in after/afterEach) kills whatever is still
 * running with SIGKILL. Output is kept (bounded) so a failing test can show
 * the last lines of each child.
 *
 * `cygnetArgs(...)` runs the `cygnet` CLI from the source tree via tsx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Lines of output kept per process: enough for a post-mortem, bounded for long runs. */
export const maxKeptOutputLines = 400;

export interface SpawnOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Also copy the child's output to this process's stderr, prefixed (debugging). */
  readonly echo?: boolean;
}

export class ManagedProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private lineWaiters = new Set<(line: string) => void>();

  constructor(readonly name: string, readonly child: ChildProcess, echo: boolean) {
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) this.addLine(line, echo);
      });
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first line (already seen or future) matching `re`. */
  waitForLine(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onLine = (line: string): void => {
        if (!re.test(line)) return;
        cleanup();
        resolve(line);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms; last output:\n${this.tail()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.lineWaiters.delete(onLine);
      };
      this.lineWaiters.add(onLine);
    });
  }

  tail(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }

  /** SIGKILL, and wait for the exit. */
  async kill9(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private addLine(line: string, echo: boolean): void {
    this.lines.push(line);
    if (this.lines.length > maxKeptOutputLines) this.lines.splice(0, this.lines.length - maxKeptOutputLines);
    if (echo) process.stderr.write(`[${this.name}] ${line}\n`);
    for (const w of [...this.lineWaiters]) w(line);
  }
}

const live = new Set<ManagedProcess>();

export function spawnProcess(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  const child = spawn(command, [...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new ManagedProcess(name, child, options.echo ?? process.env.CYGNET_TEST_ECHO === '1');
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  return proc;
}

/**
 * `node --import tsx src/cli/main.ts <args>` from the repository root (log level: CYGNET_CHILD_LOG_LEVEL, default info).
 * CYGNET_CHILD_NODE_ARGS adds node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the daemons a
 * benchmark starts (node refuses --cpu-prof in NODE_OPTIONS).
 */
export function spawnCygnet(name: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  return spawnProcess(name, process.execPath, [...(process.env.CYGNET_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), ...args], {
    ...options,
    env: { CYGNET_LOG_LEVEL: process.env.CYGNET_CHILD_LOG_LEVEL ?? 'info', ...options.env },
  });
}

/** SIGKILLs every process still running that a test started. */
export async function killAllProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill9()));
}

/** Describes the last output of every live process (for failure messages). */
export function describeLiveProcesses(): string {
  return [...live].map((p) => `--- ${p.name} (pid ${p.pid})\n${p.tail(15)}`).join('\n');
}

/** Whether a process with this pid exists (signal 0 checks without sending). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The session id of a process (field 6 of /proc/<pid>/stat, counted after the parenthesized command). */
export function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}
