/**
 * A local 3-member etcd 3.4 cluster (Debian's /usr/bin/etcd) for side-by-side
 * benchmarks: each member its own data dir and 127.0.0.1 ports. Status and
 * leader come from the v3 HTTP/JSON gateway; `etcdPut` writes through it
 * (`POST /v3/kv/put`, base64 key/value) for the gateway column, the gRPC
 * load comes from bench/etcd-load.
 * `stop()` SIGKILLs every member it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';

export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';

export interface EtcdMember {
  readonly id: number;
  readonly name: string;
  readonly client: string;
  readonly peer: string;
}

export class EtcdCluster {
  readonly members: readonly EtcdMember[];
  private readonly dataDir: string;
  private readonly procs = new Map<number, ChildProcess>();
  private readonly stderr = new Map<number, string>();

  private readonly extraArgs: readonly string[];

  /** `ports` = 2 per member (client, peer); `extraArgs` go to every member (e.g. `--election-timeout 500`). */
  constructor(dataDir: string, ports: readonly number[], extraArgs: readonly string[] = []) {
    this.extraArgs = extraArgs;
    const n = Math.floor(ports.length / 2);
    this.members = Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      name: `e${i + 1}`,
      client: `127.0.0.1:${ports[2 * i]}`,
      peer: `127.0.0.1:${ports[2 * i + 1]}`,
    }));
    this.dataDir = dataDir;
  }

  member(id: number): EtcdMember {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no etcd member ${id}`);
    return m;
  }

  isRunning(id: number): boolean {
    return this.procs.has(id);
  }

  async start(id: number, state: 'new' | 'existing' = 'new'): Promise<void> {
    const m = this.member(id);
    const dir = join(this.dataDir, `etcd-${id}`);
    await mkdir(dir, { recursive: true });
    const cluster = this.members.map((x) => `${x.name}=http://${x.peer}`).join(',');
    const child = spawn(
      ETCD_BIN,
      [
        '--name', m.name,
        '--data-dir', dir,
        '--listen-client-urls', `http://${m.client}`,
        '--advertise-client-urls', `http://${m.client}`,
        '--listen-peer-urls', `http://${m.peer}`,
        '--initial-advertise-peer-urls', `http://${m.peer}`,
        '--initial-cluster', cluster,
        '--initial-cluster-state', state,
        '--initial-cluster-token', 'cygnet-bench',
        '--logger', 'zap',
        '--log-level', 'error',
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.setEncoding('utf8').on('data', (s: string) => this.stderr.set(id, ((this.stderr.get(id) ?? '') + s).slice(-4000)));
    child.once('exit', () => {
      if (this.procs.get(id) === child) this.procs.delete(id);
    });
    this.procs.set(id, child);
  }

  async kill(id: number): Promise<void> {
    const child = this.procs.get(id);
    if (child === undefined) return;
    const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    child.kill('SIGKILL');
    await exited;
    this.procs.delete(id);
  }

  /** `{memberId, leader, applied}` from /v3/maintenance/status, or undefined when unreachable or leaderless. */
  async status(id: number): Promise<{ memberId: string; leader: string; applied: number } | undefined> {
    try {
      const res = await request(`http://${this.member(id).client}/v3/maintenance/status`, { method: 'POST', body: '{}', headersTimeout: 1000, bodyTimeout: 1000 });
      const j = (await res.body.json()) as { header?: { member_id?: string }; leader?: string; raftAppliedIndex?: string };
      if (res.statusCode !== 200 || j.header?.member_id === undefined || j.leader === undefined || j.leader === '0') return undefined;
      return { memberId: j.header.member_id, leader: j.leader, applied: Number(j.raftAppliedIndex ?? -1) };
    } catch {
      return undefined;
    }
  }

  async leader(): Promise<number | undefined> {
    for (const id of this.procs.keys()) {
      const s = await this.status(id);
      if (s !== undefined && s.memberId === s.leader) return id;
    }
    return undefined;
  }

  async waitLeader(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const l = await this.leader();
      if (l !== undefined) return l;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`etcd: no leader after ${timeoutMs} ms: ${[...this.stderr.values()].join('\n').slice(-1000)}`);
  }

  /** Waits until every running member has a leader and all have applied the same index (a restarted member caught up). */
  async waitCaughtUp(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const st = await Promise.all([...this.procs.keys()].map((id) => this.status(id)));
      const applied = st.map((s) => s?.applied ?? -1);
      if (st.length === this.members.length && applied.every((a) => a >= 0 && a === applied[0])) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`etcd: members not caught up after ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((id) => this.kill(id)));
  }
}

/** One etcd put through the JSON gateway; true when committed. */
export async function etcdPut(dispatcher: import('undici').Dispatcher, client: string, key: string, value: Buffer, timeoutMs: number): Promise<boolean> {
  try {
    const res = await request(`http://${client}/v3/kv/put`, {
      method: 'POST',
      dispatcher,
      body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: value.toString('base64') }),
      headers: { 'content-type': 'application/json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    return res.statusCode === 200 && !text.includes('"error"');
  } catch {
    return false;
  }
}
