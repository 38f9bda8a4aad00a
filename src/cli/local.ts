/**
 * `cygnet local`: one master and N agents on this machine, each a child
 * process running this same CLI, with its own work dir under `--work-dir`
 * and an equal share of the host's cpus and memory (via the agent's
 * `--resources`).
 *
 * `computeLocalPlan` is pure (host size and paths come in as parameters);
 * `runLocal` is the shell: it creates the work dirs, starts the children
 * through a ChildGroup, prints where everything is, restarts a child that
 * exits unexpectedly (with backoff, as systemd's Restart=on-failure), and
 * stops everything on SIGINT/SIGTERM. To add a daemon to the local cluster,
 * add its ChildSpec in `computeLocalPlan`.
 *
 * On the default 127.0.0.1, agent N binds 127.0.0.N (all loopback on Linux),
 * so each agent is its own host: `hostname:UNIQUE` spreads instances and DNS
 * answers with distinct addresses, as on a real cluster.
 */
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { ConfigError } from '../common/errors.ts';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { logEnvForChildren } from '../common/log.ts';
import { ChildGroup, type ChildSpec } from './children.ts';

export interface LocalOptions {
  readonly basePort: number;
  readonly agents: number;
  readonly workDir: string;
  readonly host: string;
  /** App framework replicas (0: none); APIs on 8080, 8081, … and Raft on 9080, 9081, …. */
  readonly frameworkReplicas?: number;
  /** First framework API port (Marathon's 8080). */
  readonly frameworkPort?: number;
  /** The cluster DNS server's port (UDP and TCP); 0: no DNS server. Needs a framework. */
  readonly dnsPort?: number;
  /** The HTTP load balancer's port; 0: no proxy. Needs a framework. */
  readonly proxyPort?: number;
}

/** Raft ports are the API ports plus this. */
export const frameworkRaftPortOffset = 1000;
/** The DNS admin port (/health, /metrics) is the DNS port plus this: 8053 → 9153, CoreDNS's metrics port. */
export const dnsAdminPortOffset = 1100;
/** The proxy's admin port (/health, /metrics, /routes) is its port plus this: 8000 → 9090. */
export const proxyAdminPortOffset = 1090;

export interface HostSize {
  readonly cpus: number;
  readonly memMb: number;
}

export interface LocalPlan {
  readonly masterAddress: string;
  /** http://host:port of each framework replica's API. */
  readonly frameworkUrls: readonly string[];
  readonly children: readonly LocalChild[];
}

export interface LocalChild extends ChildSpec {
  readonly port: number;
  readonly workDir: string;
  /**
   * Ports on the cluster's host of which one must accept a connection before
   * this child starts: agents and framework replicas wait for the master, the
   * DNS server and the proxy for a framework replica, so that no first
   * connection is refused (a warning at every start).
   */
  readonly startAfterAnyOf?: readonly number[];
  /** The addresses the child binds, checked before anything starts. */
  readonly listens: readonly LocalListen[];
}

/** An address a child binds, and the `cygnet local` flag that moves it. */
export interface LocalListen {
  readonly host: string;
  readonly port: number;
  readonly udp?: boolean;
  readonly flag: '--base-port' | '--framework-port' | '--dns-port' | '--proxy-port';
}

/** How long a child waits for `startAfterAnyOf` before it starts anyway (its own retries take over). */
export const startAfterTimeoutMs = 60_000;

/** Memory kept back for the OS and the daemons themselves when dividing the host. */
export const reservedHostMemMb = 512;

/** The command that runs this CLI again in a child: node + the tsx loader + main.ts. */
export function cliCommand(): { command: string; prefixArgs: string[] } {
  const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
  return { command: process.execPath, prefixArgs: ['--import', import.meta.resolve('tsx'), main] };
}

/** Each agent's share of the host: cpus to 2 decimals, mem in whole MB. */
export function computeAgentShare(host: HostSize, agents: number): HostSize {
  const cpus = Math.max(0.1, Math.floor((host.cpus / agents) * 100) / 100);
  const memMb = Math.max(128, Math.floor(Math.max(0, host.memMb - reservedHostMemMb) / agents));
  return { cpus, memMb };
}

export function computeLocalPlan(opts: LocalOptions, host: HostSize, cli = cliCommand()): LocalPlan {
  const masterAddress = `${opts.host}:${opts.basePort}`;
  const share = computeAgentShare(host, opts.agents);
  const masterDir = path.join(opts.workDir, 'master');
  const children: LocalPlan['children'][number][] = [{
    name: 'master',
    command: cli.command,
    args: [...cli.prefixArgs, 'master', '--ip', opts.host, '--port', String(opts.basePort)],
    port: opts.basePort,
    workDir: masterDir,
    listens: [{ host: opts.host, port: opts.basePort, flag: '--base-port' }],
  }];
  for (let i = 1; i <= opts.agents; i++) {
    const port = opts.basePort + i;
    const workDir = path.join(opts.workDir, `agent-${i}`);
    children.push({
      name: `agent-${i}`,
      command: cli.command,
      args: [
        ...cli.prefixArgs, 'agent',
        '--master', masterAddress,
        '--ip', agentIp(opts.host, i),
        '--port', String(port),
        '--work-dir', workDir,
        '--resources', `cpus:${share.cpus};mem:${share.memMb};disk:10240;ports:[${31000 + (i - 1) * 1000}-${31999 + (i - 1) * 1000}]`,
        '--attributes', `rack:${rackName(i)}`,
        '--kill-tasks-on-exit',
      ],
      port,
      workDir,
      startAfterAnyOf: [opts.basePort],
      listens: [{ host: agentIp(opts.host, i), port, flag: '--base-port' }],
    });
  }
  const replicas = opts.frameworkReplicas ?? 0;
  const apiBase = opts.frameworkPort ?? 8080;
  const peers = Array.from({ length: replicas }, (_, k) => `${k + 1}=${opts.host}:${apiBase + k + frameworkRaftPortOffset}`).join(',');
  const frameworkUrls: string[] = [];
  const frameworkPorts: number[] = [];
  for (let k = 1; k <= replicas; k++) {
    const port = apiBase + k - 1;
    frameworkPorts.push(port);
    const workDir = path.join(opts.workDir, `framework-${k}`);
    frameworkUrls.push(`http://${opts.host}:${port}`);
    children.push({
      name: `framework-${k}`,
      command: cli.command,
      args: [...cli.prefixArgs, 'framework', '--id', String(k), '--peers', peers, '--http', `${opts.host}:${port}`, '--master', masterAddress, '--data-dir', workDir],
      port,
      workDir,
      startAfterAnyOf: [opts.basePort],
      listens: [{ host: opts.host, port, flag: '--framework-port' }, { host: opts.host, port: port + frameworkRaftPortOffset, flag: '--framework-port' }],
    });
  }
  const dnsPort = opts.dnsPort ?? 0;
  if (dnsPort !== 0 && frameworkUrls.length > 0) {
    children.push({
      name: 'dns',
      command: cli.command,
      args: [...cli.prefixArgs, 'dns', '--listen', `${opts.host}:${dnsPort}`, '--admin-listen', `${opts.host}:${dnsPort + dnsAdminPortOffset}`, '--registry', frameworkUrls.join(',')],
      port: dnsPort,
      workDir: path.join(opts.workDir, 'dns'),
      startAfterAnyOf: frameworkPorts,
      listens: [
        { host: opts.host, port: dnsPort, udp: true, flag: '--dns-port' },
        { host: opts.host, port: dnsPort, flag: '--dns-port' },
        { host: opts.host, port: dnsPort + dnsAdminPortOffset, flag: '--dns-port' },
      ],
    });
  }
  const proxyPort = opts.proxyPort ?? 0;
  if (proxyPort !== 0 && frameworkUrls.length > 0) {
    children.push({
      name: 'proxy',
      command: cli.command,
      args: [...cli.prefixArgs, 'proxy', '--listen', `${opts.host}:${proxyPort}`, '--admin-listen', `${opts.host}:${proxyPort + proxyAdminPortOffset}`, '--domain', 'cygnet', '--registry', frameworkUrls.join(',')],
      port: proxyPort,
      workDir: path.join(opts.workDir, 'proxy'),
      ownSession: true,
      startAfterAnyOf: frameworkPorts,
      listens: [{ host: opts.host, port: proxyPort, flag: '--proxy-port' }, { host: opts.host, port: proxyPort + proxyAdminPortOffset, flag: '--proxy-port' }],
    });
  }
  return { masterAddress, frameworkUrls, children };
}

/** Agent N's address: its own loopback address when the cluster runs on 127.0.0.1. */
export function agentIp(host: string, i: number): string {
  return host === '127.0.0.1' ? `127.0.0.${i}` : host;
}

/** rack:a, rack:b, … (then rack:27, …), so constraints on attributes can be tried locally. */
function rackName(i: number): string {
  return i <= 26 ? String.fromCharCode(96 + i) : String(i);
}

/** What `cygnet local` prints once everything is started. */
export function localBanner(plan: LocalPlan): string {
  const m = plan.masterAddress;
  const lines = ['', 'cygnet local cluster'];
  for (const c of plan.children) {
    const ip = c.args[c.args.indexOf('--ip') + 1] ?? m.split(':')[0];
    const scheme = c.name === 'dns' ? 'udp+tcp ' : 'http://';
    lines.push(`  ${c.name.padEnd(11)} ${scheme}${c.name.startsWith('agent') ? ip : m.split(':')[0]}:${c.port}   work dir ${c.workDir}`);
  }
  const fw = plan.frameworkUrls[0];
  if (fw !== undefined) {
    lines.push(
      '',
      `apps (Marathon's /v2 API) at ${fw}:`,
      `  curl -s -X POST ${fw}/v2/apps -H 'Content-Type: application/json' \\`,
      `    -d '{"id":"/hello","cmd":"python3 -m http.server $PORT0","cpus":0.1,"mem":32,"instances":2,"portDefinitions":[{"port":0,"name":"http"}]}'`,
      `  curl -s ${fw}/v2/apps/hello | head -c 600`,
      `  curl -s ${fw}/v1/registry`,
    );
  }
  const dns = plan.children.find((c) => c.name === 'dns');
  const proxy = plan.children.find((c) => c.name === 'proxy');
  if (proxy !== undefined) lines.push('', `HTTP load balancer on port ${proxy.port} (routes: http://${m.split(':')[0]}:${proxy.port + proxyAdminPortOffset}/routes):`, `  curl -s -H 'Host: hello.cygnet' http://${m.split(':')[0]}:${proxy.port}/`);
  if (dns !== undefined) lines.push('', `cluster DNS on port ${dns.port} (UDP and TCP):`, `  dig @${m.split(':')[0]} -p ${dns.port} hello.cygnet`, `  dig @${m.split(':')[0]} -p ${dns.port} _http._tcp.hello.cygnet SRV`);
  lines.push(
    '',
    'the master:',
    `  curl -s http://${m}/state | head -c 600`,
    `  curl -s http://${m}/metrics`,
    `  curl -N -X POST -H 'Content-Type: application/json' \\`,
    `    -d '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"me","name":"curl"}}}' http://${m}/api/v1/scheduler`,
    '',
    'Ctrl-C stops everything.',
    '',
  );
  return lines.join('\n');
}

export function hostSize(): HostSize {
  return { cpus: os.availableParallelism(), memMb: Math.floor(os.totalmem() / (1024 * 1024)) };
}

/** Resolves once a TCP connection to one of `ports` on `host` succeeds, `timeoutMs` passes, or `cancelled()` says so. */
export async function untilAnyAccepts(host: string, ports: readonly number[], timeoutMs: number, cancelled: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const accepts = (port: number): Promise<boolean> => new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
  while (ports.length > 0 && !cancelled() && Date.now() < deadline) {
    if ((await Promise.all(ports.map(accepts))).some((ok) => ok)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface TakenAddress {
  readonly child: string;
  readonly listen: LocalListen;
  /** EADDRINUSE, EACCES (a port below 1024 without the right), EADDRNOTAVAIL (not this host's address), … */
  readonly code: string;
}

/** Whether `listen` can be bound now: undefined if so (the trial socket is closed at once), else the error code. */
function bindProblem(listen: LocalListen): Promise<string | undefined> {
  // A port pushed past 65535 by an offset (--proxy-port 65000 puts its admin port at 66090).
  if (!Number.isInteger(listen.port) || listen.port < 0 || listen.port > 65535) return Promise.resolve(`port ${listen.port} is out of range`);
  return new Promise((resolve) => {
    const failed = (err: NodeJS.ErrnoException): void => resolve(err.code ?? err.message);
    if (listen.udp === true) {
      const socket = createSocket(listen.host.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', (err) => { socket.close(); failed(err); });
      socket.bind(listen.port, listen.host, () => socket.close(() => resolve(undefined)));
      return;
    }
    const server = createServer();
    server.once('error', failed);
    server.listen({ host: listen.host, port: listen.port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** The plan's addresses that cannot be bound (something else holds them), in plan order. */
export async function takenAddresses(plan: LocalPlan): Promise<TakenAddress[]> {
  const all = plan.children.flatMap((c) => c.listens.map((listen) => ({ child: c.name, listen })));
  const problems = await Promise.all(all.map((a) => bindProblem(a.listen)));
  return all.flatMap((a, i) => {
    const code = problems[i];
    return code === undefined ? [] : [{ ...a, code }];
  });
}

const flagHints: Record<LocalListen['flag'], string> = {
  '--base-port': '--base-port <port> (the master; agents take the ports after it)',
  '--framework-port': '--framework-port <port> (framework APIs from there, their Raft ports 1000 above)',
  '--dns-port': '--dns-port <port> (its admin port is 1100 above; 0 leaves the DNS server out)',
  '--proxy-port': '--proxy-port <port> (its admin port is 1090 above; 0 leaves the proxy out)',
};

/** One message for every address in the way: which daemon, why, and the flag that moves it. */
export function describeTakenAddresses(taken: readonly TakenAddress[]): string {
  const lines = taken.map((t) => `  ${t.listen.host}:${t.listen.port}${t.listen.udp === true ? ' (UDP)' : ''} for ${t.child}: ${t.code === 'EADDRINUSE' ? 'in use by another process' : t.code}`);
  const flags = [...new Set(taken.map((t) => t.listen.flag))].map((f) => `  ${flagHints[f]}`);
  const inUse = taken.some((t) => t.code === 'EADDRINUSE');
  return [
    `cannot start the local cluster: ${taken.length === 1 ? 'this address cannot be bound' : 'these addresses cannot be bound'}:`,
    ...lines,
    `${inUse ? 'Stop what holds them (another cygnet local?), or move' : 'Move'} the daemons with:`,
    ...flags,
  ].join('\n');
}

/** Runs the local cluster until SIGINT/SIGTERM (resolves with the exit code). */
export async function runLocal(opts: LocalOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const plan = computeLocalPlan(opts, hostSize());
  const mismatch = checkFrameworkReplicas(readMarker(opts.workDir), opts.frameworkReplicas ?? 0, opts.workDir);
  if (mismatch !== undefined) throw new ConfigError(mismatch);
  // Before anything starts: a daemon that cannot bind would only be restarted in a loop, its cause buried in the log.
  const taken = await takenAddresses(plan);
  if (taken.length > 0) throw new ConfigError(describeTakenAddresses(taken));
  for (const c of plan.children) mkdirSync(c.workDir, { recursive: true });
  if ((opts.frameworkReplicas ?? 0) > 0) writeFileSync(path.join(opts.workDir, replicasMarker), `${opts.frameworkReplicas}\n`);
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => { resolveDone = resolve; });
  const restarts = new Map<string, { failures: number; timer?: NodeJS.Timeout }>();
  let stopping = false;
  const group: ChildGroup = new ChildGroup(out, (child, code, signal) => {
    if (stopping) return;
    const ranMs = Date.now() - child.startedAtMs;
    const r = restarts.get(child.spec.name) ?? { failures: 0 };
    r.failures = ranMs > restartResetAfterMs ? 1 : r.failures + 1;
    const delayMs = computeRestartDelayMs(r.failures);
    out(`[local] ${child.spec.name} exited unexpectedly (code ${code ?? '-'}, signal ${signal ?? '-'}); restarting in ${delayMs} ms`);
    r.timer = setTimeout(() => {
      if (!stopping) group.start(child.spec);
    }, delayMs);
    restarts.set(child.spec.name, r);
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    out(`[local] ${sig}: stopping the cluster`);
    resolveDone();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A closed terminal: the proxy, in a session of its own, would not get the hang-up itself.
  process.once('SIGHUP', onSignal);
  // The children's stdout is a pipe to us: they log in the format (and colour) our own stdout calls for.
  const logEnv = logEnvForChildren();
  const startChild = (spec: LocalChild): void => { group.start({ ...spec, env: { ...spec.env, ...logEnv } }); };
  // One wait per set of ports: the agents and the replicas all wait for the master's.
  const waits = new Map<string, Promise<void>>();
  for (const spec of plan.children) {
    const ports = spec.startAfterAnyOf;
    if (ports === undefined) {
      startChild(spec);
      continue;
    }
    const key = ports.join(',');
    let wait = waits.get(key);
    if (wait === undefined) {
      wait = untilAnyAccepts(opts.host, ports, startAfterTimeoutMs, () => stopping);
      waits.set(key, wait);
    }
    void wait.then(() => { if (!stopping) startChild(spec); });
  }
  out(localBanner(plan));
  await done;
  stopping = true;
  for (const r of restarts.values()) clearTimeout(r.timer);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGHUP', onSignal);
  await group.stopAll();
  out('[local] all children stopped');
  return 0;
}

/** File in the work dir naming how many framework replicas its Raft logs were made for. */
export const replicasMarker = 'framework-replicas';

function readMarker(workDir: string): number | undefined {
  try {
    const n = Number(readFileSync(path.join(workDir, replicasMarker), 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The framework replicas' Raft logs remember their group: starting 3 replicas
 * over logs made by 1 (or the other way) would make two groups that cannot
 * agree. Refuse it with the way out, instead of letting replicas crash in a loop.
 */
export function checkFrameworkReplicas(recorded: number | undefined, wanted: number, workDir: string): string | undefined {
  if (recorded === undefined || wanted === 0 || recorded === wanted) return undefined;
  return `--framework-replicas ${wanted}: ${workDir} holds the state of ${recorded} framework replica(s); start with --framework-replicas ${recorded}, or remove ${workDir} (or pass another --work-dir) to start afresh`;
}

/** A child that ran this long before dying starts its backoff from the beginning again. */
export const restartResetAfterMs = 60_000;
/** Longest wait before restarting a child that keeps dying. */
export const maxRestartDelayMs = 30_000;

/** 1 s, 2 s, 4 s, … capped at 30 s (systemd's RestartSec with a growing step). */
export function computeRestartDelayMs(failures: number): number {
  return Math.min(maxRestartDelayMs, 1000 * 2 ** Math.max(0, failures - 1));
}
