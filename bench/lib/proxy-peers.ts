/**
 * The processes of the proxy benchmark: Node HTTP backends, and the three
 * load balancers run side by side with the same backends and the same
 * number of workers/threads: cygnet's proxy (`cygnet proxy`, fed by a
 * registry watch server), HAProxy (`nbthread`) and nginx
 * (`worker_processes`), both from Debian, installed with apt if missing.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Balancers still running, killed (with their workers) if the benchmark exits or is interrupted. */
const cleanups = new Set<() => void>();
process.once('exit', () => { for (const clean of cleanups) clean(); });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/**
 * Starts a balancer as a daemon runs: in a session of its own. On Linux
 * with sched_autogroup (on here, and Debian's default) a session is a
 * scheduling group. A balancer left in the benchmark's session shares one
 * group with the backends and wrk, and every backend it wakes preempts
 * it; HAProxy (`-D` calls setsid) had a group of its own. Measured with
 * wrk -c64 at 1 worker: cygnet in the shared session was preempted 0.20
 * times a request and its backends slept 0.33 times a request, in its own
 * session 0.01 and 0.07, as HAProxy's. So every balancer gets its own.
 */
function spawnDaemon(command: string, args: readonly string[], options: Omit<SpawnOptions, 'detached'>): ChildProcess {
  const proc = spawn(command, args, { ...options, detached: true });
  const clean = (): void => {
    try { process.kill(-(proc.pid as number), 'SIGKILL'); } catch { /* gone */ }
  };
  cleanups.add(clean);
  proc.once('exit', () => cleanups.delete(clean));
  return proc;
}

/** apt-get installs what is missing (wrk, haproxy, nginx, and `extra` commands, each from the package of its name); the machine's root may do that. */
export function ensureTools(extra: readonly string[] = []): void {
  const missing = [['wrk', 'wrk'], ['haproxy', 'haproxy'], ['nginx', 'nginx'], ...extra.map((bin) => [bin, bin])].filter(([bin]) => !['/usr/bin/', '/usr/sbin/'].some((d) => existsSync(`${d}${bin as string}`))).map(([, pkg]) => pkg as string);
  if (missing.length === 0) return;
  process.stderr.write(`installing ${missing.join(' ')} from Debian\n`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

const backendScript = `
const http = require('node:http');
const body = Buffer.from('hello from ' + process.argv[1] + '\\n');
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); res.end(body); });
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
`;

export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly proc: ChildProcess;
  kill(): Promise<void>;
}

/** One single-threaded node:http backend answering a 20-byte body. */
export async function startBackend(name: string): Promise<Backend> {
  const proc = spawn(process.execPath, ['-e', backendScript, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    proc.stdout?.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
    proc.once('exit', (code) => reject(new Error(`backend ${name} exited ${String(code)}`)));
  });
  return {
    name,
    port,
    proc,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

async function waitHttp(url: string, host: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await request(url, { headers: { host } });
      await res.body.text();
      if (res.statusCode === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export interface Balancer {
  readonly name: string;
  readonly port: number;
  /** The balancer's processes (descendants are added by the caller). */
  pids(): number[];
  stop(): Promise<void>;
  /** Client connections per worker now, e.g. "33/31" (cygnet only, from its admin /health). */
  split?(): Promise<string>;
}

async function stopChild(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export async function startCygnet(port: number, adminPort: number, registryUrl: string, workers: number, host: string): Promise<Balancer> {
  const proc = spawnDaemon(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'proxy', '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--registry', registryUrl, '--workers', String(workers)], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CYGNET_LOG_LEVEL: 'warn' },
  });
  await waitHttp(`http://127.0.0.1:${port}/`, host);
  const split = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/health`);
    const health = await res.json() as { workers: { connections: number }[] };
    return health.workers.map((w) => w.connections).join('/');
  };
  return { name: `cygnet (${workers} worker${workers > 1 ? 's' : ''})`, port, pids: () => [proc.pid as number], stop: () => stopChild(proc), split };
}

const naiveScript = `
const http = require('node:http');
const { createProxyServer } = require('http-proxy-3');
const [port, ...backends] = process.argv.slice(1).map(Number);
const proxy = createProxyServer({ agent: new http.Agent({ keepAlive: true }) });
proxy.on('error', (_err, _req, res) => { try { res.writeHead(502); res.end(); } catch {} });
let next = 0;
http.createServer((req, res) => proxy.web(req, res, { target: 'http://127.0.0.1:' + backends[next++ % backends.length] })).listen(port, '127.0.0.1');
`;

/** The issue's baseline: http-proxy-3 with a keep-alive agent and otherwise its defaults, round robin, one process. */
export async function startNaive(port: number, backendPorts: readonly number[], host: string): Promise<Balancer> {
  const proc = spawnDaemon(process.execPath, ['-e', naiveScript, String(port), ...backendPorts.map(String)], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitHttp(`http://127.0.0.1:${port}/`, host);
  return { name: 'naive http-proxy-3 (1 process)', port, pids: () => [proc.pid as number], stop: () => stopChild(proc) };
}

export function haproxyConfig(port: number, threads: number, backendPorts: readonly number[]): string {
  return [
    'global',
    `  nbthread ${threads}`,
    '  maxconn 4000',
    'defaults',
    '  mode http',
    '  timeout connect 3s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  option http-keep-alive',
    '  option forwardfor',
    'frontend fe',
    `  bind 127.0.0.1:${port}`,
    // The same headers cygnet and nginx send the backends (marathon-lb's template sets X-Forwarded-Port and, over TLS, -Proto).
    '  http-request set-header X-Forwarded-Proto http',
    '  http-request set-header X-Forwarded-Host %[req.hdr(host)]',
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    ...backendPorts.map((p, i) => `  server b${i} 127.0.0.1:${p}`),
    '',
  ].join('\n');
}

export class HaproxyProcess implements Balancer {
  readonly name: string;
  private constructor(readonly port: number, private readonly dir: string, threads: number) {
    this.name = `HAProxy (nbthread ${threads})`;
  }

  static async start(dir: string, port: number, threads: number, backendPorts: readonly number[], host: string): Promise<HaproxyProcess> {
    const h = new HaproxyProcess(port, dir, threads);
    await writeFile(h.cfg, haproxyConfig(port, threads, backendPorts));
    execFileSync('haproxy', ['-f', h.cfg, '-D', '-p', h.pidFile], { stdio: ['ignore', 'ignore', 'ignore'] });
    cleanups.add(h.killAll);
    await waitHttp(`http://127.0.0.1:${port}/`, host);
    return h;
  }

  private readonly killAll = (): void => {
    for (const pid of this.pids()) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };

  get cfg(): string {
    return join(this.dir, `haproxy-${this.port}.cfg`);
  }

  get pidFile(): string {
    return join(this.dir, `haproxy-${this.port}.pid`);
  }

  /** What marathon-lb does on every change: write the whole config, start a new haproxy, soft-stop the old (-sf). */
  async reload(threads: number, backendPorts: readonly number[]): Promise<void> {
    await writeFile(this.cfg, haproxyConfig(this.port, threads, backendPorts));
    const old = (await readFile(this.pidFile, 'utf8')).split(/\s+/).filter((s) => s !== '');
    execFileSync('haproxy', ['-f', this.cfg, '-D', '-p', this.pidFile, '-sf', ...old], { stdio: ['ignore', 'ignore', 'ignore'] });
  }

  pids(): number[] {
    try {
      return readFileSync(this.pidFile, 'utf8').split(/\s+/).filter((s) => s !== '').map(Number);
    } catch {
      return [];
    }
  }

  async stop(): Promise<void> {
    cleanups.delete(this.killAll);
    for (const pid of this.pids()) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    }
    await sleep(300);
  }
}

export async function startNginx(dir: string, port: number, workers: number, backendPorts: readonly number[], host: string): Promise<Balancer> {
  const conf = join(dir, `nginx-${port}.conf`);
  await writeFile(conf, [
    `worker_processes ${workers};`,
    'daemon off;',
    'master_process on;',
    `pid ${join(dir, `nginx-${port}.pid`)};`,
    `error_log ${join(dir, `nginx-${port}.err`)} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/nginx-body; proxy_temp_path ${dir}/nginx-proxy;`,
    `  upstream be { ${backendPorts.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 64; }`,
    `  server { listen 127.0.0.1:${port};`,
    '    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;',
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $host; } }',
    '}',
    '',
  ].join('\n'));
  const proc = spawnDaemon('nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitHttp(`http://127.0.0.1:${port}/`, host);
  return { name: `nginx (worker_processes ${workers})`, port, pids: () => [proc.pid as number], stop: () => stopChild(proc, 'SIGQUIT') };
}
