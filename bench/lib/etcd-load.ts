/**
 * The Go closed-loop generator in bench/etcd-load (etcd's clientv3 over gRPC,
 * or examples/kv's HTTP API from Go): built on demand, offline, in GOPATH mode
 * against Debian's golang-etcd-server-dev, into a cache dir keyed by the
 * source's hash, then run as a child process that prints one JSON result.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SRC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'etcd-load');
const GOPATH = '/usr/share/gocode';
const CLIENTV3 = join(GOPATH, 'src/go.etcd.io/etcd/clientv3');
const GO = '/usr/bin/go';

export interface GoLoadResult {
  readonly target: 'etcd' | 'kv-http';
  readonly op: 'put' | 'get';
  readonly clients: number;
  readonly conns: number;
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly firstError?: string;
}

export interface GoLoadOptions {
  readonly proto: 'etcd' | 'kv-http';
  readonly endpoints: readonly string[];
  readonly op: 'put' | 'get';
  readonly clients: number;
  readonly durationMs: number;
  /** etcd: clientv3 clients (gRPC connections) shared by the goroutines; the generator's default is 1. */
  readonly conns?: number;
}

/** apt-get installs whatever of Go, clientv3's source and etcd is missing (the machine's root may). */
export function ensureGoTools(log: (s: string) => void): void {
  const missing = [
    [GO, 'golang-go'],
    [CLIENTV3, 'golang-etcd-server-dev'],
    ['/usr/bin/etcd', 'etcd-server'],
  ].filter(([path]) => !existsSync(path as string)).map(([, pkg]) => pkg as string);
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} from Debian`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (err) {
    log(`apt-get failed: ${(err as Error).message}`);
  }
}

/**
 * Path of the built generator, or a reason why there is none (no Go, no
 * clientv3 source, build error). Rebuilt only when main.go changes.
 */
export async function buildEtcdLoad(): Promise<{ readonly bin: string } | { readonly missing: string }> {
  if (!existsSync(GO)) return { missing: `${GO} not found (Debian package golang-go)` };
  if (!existsSync(CLIENTV3)) return { missing: `${CLIENTV3} not found (Debian package golang-etcd-server-dev)` };
  const src = await readFile(join(SRC_DIR, 'main.go'));
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cygnet', 'etcd-load');
  const bin = join(cache, `etcd-load-${hash}`);
  if (existsSync(bin)) return { bin };
  await mkdir(cache, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    await promisify(execFile)(GO, ['build', '-o', tmp, '.'], {
      cwd: SRC_DIR,
      // GOPATH mode: every import resolves inside Debian's /usr/share/gocode, so no module download is possible.
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: join(cache, 'gocache') },
      maxBuffer: 1 << 20,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { missing: `go build failed: ${(e.stderr ?? e.message).slice(0, 2000)}` };
  }
  await rename(tmp, bin);
  return { bin };
}

/** One closed-loop run; rejects if the generator exits non-zero or prints no result. */
export async function runGoLoad(bin: string, o: GoLoadOptions): Promise<GoLoadResult> {
  const args = [
    '--proto', o.proto,
    '--endpoints', o.endpoints.join(','),
    '--op', o.op,
    '--clients', String(o.clients),
    '--duration', `${o.durationMs}ms`,
    ...(o.conns !== undefined ? ['--conns', String(o.conns)] : []),
  ];
  const { stdout } = await promisify(execFile)(bin, args, { maxBuffer: 1 << 20, timeout: o.durationMs + 120_000 });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as GoLoadResult;
}

/**
 * The generator's fail-over mode as a long-lived child: `writeUntilCommitted`
 * hands it the survivors and resolves when a write through a fresh clientv3
 * client to them has committed (100 ms per attempt, retried every 5 ms: an
 * etcd member without a leader holds a write until the client gives up).
 */
export class EtcdFailoverProbe {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly waiting: ((line: string) => void)[] = [];

  constructor(bin: string) {
    this.child = spawn(bin, ['--op', 'failover'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    this.lines.on('line', (l) => this.waiting.shift()?.(l));
  }

  /** Resolves with the number of attempts the committed write took. */
  writeUntilCommitted(survivors: readonly string[]): Promise<number> {
    return new Promise((resolve, reject) => {
      const onExit = (): void => reject(new Error('etcd-load failover probe exited'));
      this.child.once('exit', onExit);
      this.waiting.push((line) => {
        this.child.off('exit', onExit);
        resolve(Number(line.split(' ')[1]));
      });
      this.child.stdin?.write(`${survivors.join(',')}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin?.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
    this.lines.close();
  }
}
