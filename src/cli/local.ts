/**
 * `cygnet local`: one master and N agents on this machine, each a child
 * process running this same CLI, with its own work dir under `--work-dir`
 * and an equal share of the host's cpus and memory (via the agent's
 * `--resources`).
 *
 * `computeLocalPlan` is pure (host size and paths come in as parameters);
 * `runLocal` is the shell: it creates the work dirs, starts the children
 * through a ChildGroup, prints where everything is, and stops everything on
 * SIGINT/SIGTERM or when a child dies. To add a daemon to the local cluster
 * (framework, DNS, proxy), add its ChildSpec in `computeLocalPlan`.
 */
import { mkdirSync } from 'node:fs';
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
}

export interface HostSize {
  readonly cpus: number;
  readonly memMb: number;
}

export interface LocalPlan {
  readonly masterAddress: string;
  readonly children: readonly (ChildSpec & { readonly port: number; readonly workDir: string })[];
}

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
        '--ip', opts.host,
        '--port', String(port),
        '--work-dir', workDir,
        '--resources', `cpus:${share.cpus};mem:${share.memMb};disk:10240;ports:[${31000 + (i - 1) * 1000}-${31999 + (i - 1) * 1000}]`,
        '--kill-tasks-on-exit',
      ],
      port,
      workDir,
    });
  }
  return { masterAddress, children };
}

/** What `cygnet local` prints once everything is started. */
export function localBanner(plan: LocalPlan): string {
  const m = plan.masterAddress;
  const lines = ['', 'cygnet local cluster'];
  for (const c of plan.children) lines.push(`  ${c.name.padEnd(8)} http://${m.split(':')[0]}:${c.port}   work dir ${c.workDir}`);
  lines.push(
    '',
    'try:',
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

/** Runs the local cluster until SIGINT/SIGTERM (resolves with the exit code). */
export async function runLocal(opts: LocalOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const plan = computeLocalPlan(opts, hostSize());
  for (const c of plan.children) mkdirSync(c.workDir, { recursive: true });
  let exitCode = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => { resolveDone = resolve; });
  const group = new ChildGroup(out, (child, code, signal) => {
    out(`[local] ${child.spec.name} exited unexpectedly (code ${code ?? '-'}, signal ${signal ?? '-'}); stopping the cluster`);
    exitCode = 1;
    resolveDone();
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    out(`[local] ${sig}: stopping the cluster`);
    resolveDone();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The children's stdout is a pipe to us: they log in the format (and colour) our own stdout calls for.
  const logEnv = logEnvForChildren();
  for (const spec of plan.children) group.start({ ...spec, env: { ...spec.env, ...logEnv } });
  out(localBanner(plan));
  await done;
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  await group.stopAll();
  out('[local] all children stopped');
  return exitCode;
}
