/**
 * Task launch benchmark (`npm run bench:launch`): a real master and 3 real
 * agents on 127.0.0.1 (the `cygnet` CLI from source), one framework through
 * the scheduler SDK, N `sleep 300` tasks (default 500).
 *
 * Measured from the first ACCEPT to the last TASK_RUNNING: throughput
 * (tasks/s) and per-task launch latency (ACCEPT sent → RUNNING received),
 * p50/p99/max. Tasks are spread over the 3 agents' offers, at most
 * BENCH_BATCH tasks per ACCEPT. Afterwards everything is torn down: TEARDOWN
 * (the master kills every task), then the agents stop with
 * --kill-tasks-on-exit, then the master. Prints a markdown table, including
 * what the task supervisors cost once all tasks run (processes whose command
 * line names `task-supervisor` and this run's temp dir: PSS and RSS from
 * /proc/<pid>/smaps_rollup, CPU from /proc/<pid>/stat) and the agents' CPU.
 *
 * Env: BENCH_TASKS (500), BENCH_BATCH (50), BENCH_CODEC (json|protobuf, json).
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SchedulerClient, commandTask, offerScalar } from '../src/framework/sdk/index.ts';
import type { Offer, TaskInfo } from '../src/protocol/mesos-types.ts';
import { startAgent, startMaster, type AgentHandle } from '../test/helpers/cluster.ts';
import { SchedulerRecorder } from '../test/helpers/scheduler-recorder.ts';
import { killAllProcesses } from '../test/helpers/processes.ts';
import { makeTempDir, removeTempDirs } from '../test/helpers/tmp.ts';

const taskCount = Number(process.env.BENCH_TASKS ?? 500);
const batchSize = Number(process.env.BENCH_BATCH ?? 50);
const codec = process.env.BENCH_CODEC === 'protobuf' ? 'protobuf' : 'json';
const agentCount = 3;
const taskCpus = 0.1;
const taskMemMb = 16;
/** Whole-run deadline: a stuck launch must not hang the benchmark forever. */
const runDeadlineMs = 10 * 60_000;
const clients: SchedulerClient[] = [];

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Kernel clock ticks per second (USER_HZ) for /proc/<pid>/stat utime/stime. */
const CLOCK_TICKS_PER_S = 100;

/** utime + stime of `pid` in ms (children not included), or 0 when unreadable. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** Count, PSS/RSS (kB) and CPU (ms) summed over the live task supervisors under `root`. */
function supervisorCost(root: string): { count: number; pssKb: number; rssKb: number; cpuMs: number } {
  const sum = { count: 0, pssKb: 0, rssKb: 0, cpuMs: 0 };
  for (const name of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (!cmd.includes('task-supervisor') || !cmd.includes(root)) continue;
      const smaps = readFileSync(`/proc/${name}/smaps_rollup`, 'utf8');
      sum.pssKb += Number(/^Pss:\s+(\d+)/m.exec(smaps)?.[1] ?? 0);
      sum.rssKb += Number(/^Rss:\s+(\d+)/m.exec(smaps)?.[1] ?? 0);
      sum.cpuMs += cpuMs(Number(name));
      sum.count++;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

async function main(): Promise<void> {
  const root = await makeTempDir('cygnet-bench-launch-');
  const master = await startMaster({ workDir: path.join(root, 'master') });
  const agents: AgentHandle[] = await Promise.all(Array.from({ length: agentCount }, (_, i) => startAgent({
    master: master.address,
    workDir: path.join(root, `agent-${i + 1}`),
    resources: 'cpus:200;mem:100000;disk:100000;ports:[31000-32000]',
    extraArgs: ['--kill-tasks-on-exit', '--attributes', `node:a${i + 1}`],
    name: `agent-${i + 1}`,
  })));

  // A plain client (not the test helpers' offer-declining one): the benchmark keeps every offer it gets.
  const client = new SchedulerClient({
    masters: [master.address],
    frameworkInfo: { user: os.userInfo().username, name: 'bench-launch' },
    contentType: codec,
    autoAcknowledge: true,
  });
  clients.push(client);
  const fw = { client, rec: new SchedulerRecorder(client) };
  await fw.client.subscribe();
  // Wait until every agent has offered, so the run starts with the whole cluster.
  await fw.rec.waitFor('offers from all agents', () => (new Set(fw.rec.offers.map((o) => o.agent_id.value)).size >= agentCount ? true : undefined), 60_000);

  const acceptedAt = new Map<string, number>();
  const runningAt = new Map<string, number>();
  const failed: string[] = [];
  fw.client.on('update', (s) => {
    const id = s.task_id.value;
    if (s.state === 'TASK_RUNNING' && !runningAt.has(id)) runningAt.set(id, performance.now());
    if (['TASK_FAILED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED'].includes(s.state)) failed.push(`${id} ${s.state} ${s.message ?? ''}`);
  });

  let next = 0;
  const usedOffers = new Set<string>();
  const launchOn = async (offer: Offer): Promise<void> => {
    const fit = Math.floor(Math.min(offerScalar(offer, 'cpus') / taskCpus, offerScalar(offer, 'mem') / taskMemMb));
    const n = Math.min(fit, batchSize, taskCount - next);
    const tasks: TaskInfo[] = [];
    for (let i = 0; i < n; i++) {
      tasks.push(commandTask(offer, { taskId: `bench-${next++}`, command: 'sleep 300', cpus: taskCpus, memMb: taskMemMb }));
    }
    const t = performance.now();
    for (const task of tasks) acceptedAt.set(task.task_id.value, t);
    await fw.client.launch(offer, tasks, { refuse_seconds: 0 });
  };

  const started = performance.now();
  const deadline = started + runDeadlineMs;
  // Keep accepting offers (the master re-offers what each ACCEPT left) until all tasks are launched.
  while (next < taskCount) {
    if (performance.now() > deadline) throw new Error(`launched only ${next}/${taskCount} before the deadline`);
    const offer = await fw.rec.waitFor('an unused offer', () => fw.rec.offers.find((o) => !usedOffers.has(o.id.value) && !fw.rec.rescinded.includes(o.id.value)), 60_000);
    usedOffers.add(offer.id.value);
    await launchOn(offer);
  }
  await fw.rec.waitFor(`all ${taskCount} RUNNING`, () => (runningAt.size + failed.length >= taskCount ? true : undefined), Math.max(1, deadline - performance.now()));
  const finished = Math.max(...runningAt.values());
  const sup = supervisorCost(root);
  const agentsCpuMs = agents.reduce((t, a) => t + cpuMs(a.proc.pid), 0);

  const latencies = [...runningAt.entries()].map(([id, t]) => t - (acceptedAt.get(id) ?? t)).sort((a, b) => a - b);
  const seconds = (finished - started) / 1000;
  const rows: [string, string][] = [
    ['tasks launched (RUNNING)', `${runningAt.size} / ${taskCount}`],
    ['failed', String(failed.length)],
    ['first ACCEPT → last RUNNING', `${seconds.toFixed(2)} s`],
    ['throughput', `${(runningAt.size / seconds).toFixed(1)} tasks/s`],
    ['launch latency p50 (ACCEPT → RUNNING)', `${percentile(latencies, 50).toFixed(0)} ms`],
    ['launch latency p99', `${percentile(latencies, 99).toFixed(0)} ms`],
    ['launch latency max', `${(latencies[latencies.length - 1] ?? NaN).toFixed(0)} ms`],
    ['task supervisors alive', String(sup.count)],
    ['per supervisor: PSS / RSS', `${(sup.pssKb / Math.max(1, sup.count) / 1024).toFixed(2)} MB / ${(sup.rssKb / Math.max(1, sup.count) / 1024).toFixed(1)} MB`],
    ['all supervisors: CPU (per supervisor)', `${(sup.cpuMs / 1000).toFixed(2)} s (${(sup.cpuMs / Math.max(1, sup.count)).toFixed(1)} ms)`],
    ['3 agents: CPU up to the last RUNNING', `${(agentsCpuMs / 1000).toFixed(2)} s`],
  ];
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
  process.stdout.write([
    '',
    `### Task launch: ${taskCount} × \`sleep 300\` on ${agentCount} agents (${codec}, ≤${batchSize} tasks per ACCEPT)`,
    '',
    `Machine: ${machine}`,
    '',
    '| metric | value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
  ].join('\n'));
  if (failed.length > 0) process.stdout.write(`first failures:\n${failed.slice(0, 5).join('\n')}\n`);

  await fw.client.teardown().catch((err: unknown) => process.stderr.write(`teardown: ${String(err)}\n`));
  await Promise.all(agents.map((a) => a.proc.stop(60_000)));
  await master.proc.stop();
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await killAllProcesses();
    await removeTempDirs();
  });
