/**
 * Runs a local examples/kv cluster as real child processes on 127.0.0.1 — for
 * the fault test and the benchmark. Each member is `node --import tsx
 * examples/kv/main.ts ...` with its own data directory; members can be
 * SIGKILLed and restarted on the same ports and data.
 *
 * Invariants: `stop()` kills every child it started (SIGKILL) and waits for
 * its exit; nothing here targets anything but 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
/** Lines of a child's stderr kept for failure messages. */
const STDERR_TAIL_LINES = 20;

export interface KvMemberSpec {
  readonly id: number;
  readonly raft: string;
  readonly http: string;
}

export interface KvStatus {
  readonly id: number;
  readonly role: string;
  readonly term: number;
  readonly leader: number;
  readonly commit: number;
  readonly applied: number;
}

export class KvProcessCluster {
  readonly members: readonly KvMemberSpec[];
  private readonly dataDir: string;
  private readonly extraArgs: readonly string[];
  private readonly procs = new Map<number, ChildProcess>();
  private readonly stderrTail = new Map<number, string[]>();

  /** `ports` = 2 per member (raft, http). */
  constructor(dataDir: string, ports: readonly number[], extraArgs: readonly string[] = []) {
    const n = Math.floor(ports.length / 2);
    this.members = Array.from({ length: n }, (_, i) => ({ id: i + 1, raft: `127.0.0.1:${ports[2 * i]}`, http: `127.0.0.1:${ports[2 * i + 1]}` }));
    this.dataDir = dataDir;
    this.extraArgs = extraArgs;
  }

  member(id: number): KvMemberSpec {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  isRunning(id: number): boolean {
    return this.procs.has(id);
  }

  /** Starts member `id` (not waiting for it to serve). */
  async start(id: number): Promise<void> {
    if (this.procs.has(id)) throw new Error(`member ${id} already running`);
    const m = this.member(id);
    const dir = join(this.dataDir, `kv-${id}`);
    await mkdir(dir, { recursive: true });
    const peers = this.members.map((x) => `${x.id}=${x.raft}`).join(',');
    // KV_CHILD_NODE_ARGS: extra node flags for the children (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
    const nodeArgs = (process.env.KV_CHILD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', mainPath, '--id', String(id), '--peers', peers, '--http', m.http, '--data', dir, ...this.extraArgs], {
      cwd: repoRoot,
      env: { ...process.env, CYGNET_LOG_LEVEL: process.env.KV_CHILD_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const tail: string[] = [];
    this.stderrTail.set(id, tail);
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      tail.push(...s.split('\n').filter((l) => l !== ''));
      if (tail.length > STDERR_TAIL_LINES) tail.splice(0, tail.length - STDERR_TAIL_LINES);
    });
    child.once('exit', () => {
      if (this.procs.get(id) === child) this.procs.delete(id);
    });
    this.procs.set(id, child);
  }

  /** Sends `signal` and waits for the child to exit. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.procs.get(id);
    if (child === undefined) return;
    const exited = new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) r();
      else child.once('exit', () => r());
    });
    child.kill(signal);
    await exited;
    this.procs.delete(id);
  }

  async status(id: number, timeoutMs = 1000): Promise<KvStatus | undefined> {
    try {
      const res = await request(`http://${this.member(id).http}/status`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return undefined;
      }
      return (await res.body.json()) as KvStatus;
    } catch {
      return undefined;
    }
  }

  /** Waits until member `id` answers /status. */
  async waitServing(id: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.procs.has(id)) throw new Error(`member ${id} exited: ${this.stderr(id)}`);
      if ((await this.status(id)) !== undefined) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`member ${id} not serving after ${timeoutMs} ms: ${this.stderr(id)}`);
  }

  /** The id of the member that says it is leader (the highest term wins), or undefined. */
  async leader(): Promise<number | undefined> {
    const all = await Promise.all([...this.procs.keys()].map((id) => this.status(id, 500)));
    let best: KvStatus | undefined;
    for (const s of all) if (s !== undefined && s.role === 'leader' && (best === undefined || s.term > best.term)) best = s;
    return best?.id;
  }

  async waitLeader(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const l = await this.leader();
      if (l !== undefined) return l;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no leader after ${timeoutMs} ms`);
  }

  stderr(id: number): string {
    return (this.stderrTail.get(id) ?? []).join('\n');
  }

  /** SIGKILLs every running member. */
  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((id) => this.kill(id, 'SIGKILL')));
  }
}
