/**
 * A real local cluster for integration tests and benchmarks: a master process
 * and agent processes (the `cygnet` CLI run from source), on 127.0.0.1 with
 * ephemeral ports and temp work dirs. Every process goes through
 * processes.ts, so `killAllProcesses()` in after() cleans up.
 */
import path from 'node:path';
import { freePort, waitForPort } from './net.ts';
import { closeAllClients, teardownAllClients } from './frameworks.ts';
import { describeLiveProcesses, killAllProcesses, spawnCygnet, type ManagedProcess } from './processes.ts';
import { removeTempDirs } from './tmp.ts';

export interface MasterHandle {
  readonly port: number;
  readonly address: string;
  readonly workDir: string;
  readonly proc: ManagedProcess;
  readonly extraArgs: readonly string[];
}

export interface AgentHandle {
  readonly port: number;
  readonly workDir: string;
  readonly proc: ManagedProcess;
  readonly args: readonly string[];
}

export interface MasterOptions {
  readonly port?: number;
  /** Kept for the test's bookkeeping (the master itself keeps no state on disk). */
  readonly workDir: string;
  readonly extraArgs?: readonly string[];
  readonly name?: string;
}

export async function startMaster(opts: MasterOptions): Promise<MasterHandle> {
  const port = opts.port ?? await freePort();
  const proc = spawnCygnet(opts.name ?? 'master', ['master', '--ip', '127.0.0.1', '--port', String(port), ...(opts.extraArgs ?? [])]);
  await Promise.race([waitForPort(port, 60_000), proc.exited.then((e) => {
    throw new Error(`master exited during startup (${JSON.stringify(e)}):\n${proc.tail()}`);
  })]);
  return { port, address: `127.0.0.1:${port}`, workDir: opts.workDir, proc, extraArgs: opts.extraArgs ?? [] };
}

export interface AgentOptions {
  readonly master: string;
  readonly workDir: string;
  readonly port?: number;
  /** Loopback address to bind and advertise (127.0.0.N gives each agent its own hostname). */
  readonly ip?: string;
  readonly resources?: string;
  readonly extraArgs?: readonly string[];
  readonly name?: string;
}

export async function startAgent(opts: AgentOptions): Promise<AgentHandle> {
  const port = opts.port ?? await freePort();
  const args = [
    'agent', '--master', opts.master, '--ip', opts.ip ?? '127.0.0.1', '--port', String(port), '--work-dir', opts.workDir,
    '--resources', opts.resources ?? 'cpus:4;mem:4096;disk:10000;ports:[31000-32000]',
    ...(opts.extraArgs ?? []),
  ];
  const proc = spawnCygnet(opts.name ?? `agent-${port}`, args);
  await Promise.race([waitForPort(port, 60_000, opts.ip), proc.exited.then((e) => {
    throw new Error(`agent exited during startup (${JSON.stringify(e)}):\n${proc.tail()}`);
  })]);
  return { port, workDir: opts.workDir, proc, args };
}

/** Starts an agent again with exactly the same arguments (same port and work dir). */
export async function restartAgent(agent: AgentHandle): Promise<AgentHandle> {
  const proc = spawnCygnet(`${agent.proc.name}'`, agent.args);
  const ip = agent.args[agent.args.indexOf('--ip') + 1];
  await waitForPort(agent.port, 60_000, ip);
  return { ...agent, proc };
}

export function agentWorkDir(root: string, i: number): string {
  return path.join(root, `agent-${i}`);
}

/**
 * The cleanup every end-to-end suite needs, registered in the calling
 * `describe`: frameworks torn down after each test (live processes printed
 * when one failed), then clients closed, processes killed and temp dirs (with
 * any tasks left under them) removed after the suite.
 */
export function registerClusterCleanup(): void {
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`${describeLiveProcesses()}\n`);
    await teardownAllClients();
  });
  after(async () => {
    await closeAllClients();
    await killAllProcesses();
    await removeTempDirs();
  });
}

export interface FrameworkHandle {
  readonly port: number;
  readonly raftPort: number;
  readonly url: string;
  readonly dataDir: string;
  readonly proc: ManagedProcess;
  readonly args: readonly string[];
}

export interface FrameworkOptions {
  readonly master: string;
  readonly dataDir: string;
  readonly port?: number;
  readonly raftPort?: number;
  readonly extraArgs?: readonly string[];
  readonly name?: string;
}

/** One framework replica (`cygnet framework`) with its own Raft data dir. */
export async function startFramework(opts: FrameworkOptions): Promise<FrameworkHandle> {
  const port = opts.port ?? await freePort();
  const raftPort = opts.raftPort ?? await freePort();
  const args = [
    'framework', '--http', `127.0.0.1:${port}`, '--peers', `1=127.0.0.1:${raftPort}`, '--master', opts.master,
    '--data-dir', opts.dataDir, '--reconcile-interval', '5secs', ...(opts.extraArgs ?? []),
  ];
  const proc = spawnCygnet(opts.name ?? 'framework', args);
  await Promise.race([waitForPort(port, 60_000), proc.exited.then((e) => {
    throw new Error(`framework exited during startup (${JSON.stringify(e)}):\n${proc.tail()}`);
  })]);
  return { port, raftPort, url: `http://127.0.0.1:${port}`, dataDir: opts.dataDir, proc, args };
}

/** Starts a framework replica again with the same arguments (same ports and data dir). */
export async function restartFramework(f: FrameworkHandle): Promise<FrameworkHandle> {
  const proc = spawnCygnet(`${f.proc.name}'`, f.args);
  await waitForPort(f.port, 60_000);
  return { ...f, proc };
}

export interface AppCluster {
  readonly master: MasterHandle;
  readonly agents: AgentHandle[];
  framework: FrameworkHandle;
}

/**
 * A master, three agents on 127.0.0.1..3 (so `hostname` differs per agent) with
 * attributes rack:a, rack:b, rack:c, and one framework replica.
 */
export async function startAppCluster(root: string, opts: { agentResources?: string; masterArgs?: readonly string[] } = {}): Promise<AppCluster> {
  const master = await startMaster({ workDir: path.join(root, 'master'), extraArgs: ['--agent-ping-timeout', '3secs', '--agent-heartbeat-interval', '500ms', '--allocation-interval', '200ms', ...(opts.masterArgs ?? [])] });
  const agents: AgentHandle[] = [];
  const racks = ['a', 'b', 'c'];
  for (let i = 1; i <= 3; i++) {
    agents.push(await startAgent({
      master: master.address,
      workDir: agentWorkDir(root, i),
      ip: `127.0.0.${i}`,
      name: `agent-${i}`,
      resources: opts.agentResources ?? `cpus:4;mem:4096;disk:10000;ports:[${31000 + i * 1000}-${31999 + i * 1000}]`,
      extraArgs: ['--attributes', `rack:${racks[i - 1]}`, '--heartbeat-interval-ms', '500'],
    }));
  }
  const framework = await startFramework({ master: master.address, dataDir: path.join(root, 'framework') });
  return { master, agents, framework };
}

export interface FrameworkGroup {
  readonly replicas: FrameworkHandle[];
}

/** N framework replicas forming one Raft group (fast ticks: 50 ms, elections in 0.5–1 s). */
/** `master`: the master's address for every replica, or one per replica (each reaching it its own way, e.g. through a relay a test can cut). */
export async function startFrameworkGroup(master: string | readonly string[], root: string, n = 3, extraArgs: readonly string[] = []): Promise<FrameworkGroup> {
  const api: number[] = [];
  const raft: number[] = [];
  for (let i = 0; i < n; i++) {
    api.push(await freePort());
    raft.push(await freePort());
  }
  const peers = raft.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const replicas = await Promise.all(api.map(async (port, i) => {
    const dataDir = path.join(root, `framework-${i + 1}`);
    const args = ['framework', '--id', String(i + 1), '--peers', peers, '--http', `127.0.0.1:${port}`, '--master', typeof master === 'string' ? master : master[i] as string, '--data-dir', dataDir, '--reconcile-interval', '5secs', '--tick', '50ms', ...extraArgs];
    const proc = spawnCygnet(`framework-${i + 1}`, args);
    await Promise.race([waitForPort(port, 60_000), proc.exited.then((e) => {
      throw new Error(`framework-${i + 1} exited during startup (${JSON.stringify(e)}):\n${proc.tail()}`);
    })]);
    return { port, raftPort: raft[i] as number, url: `http://127.0.0.1:${port}`, dataDir, proc, args };
  }));
  return { replicas };
}
