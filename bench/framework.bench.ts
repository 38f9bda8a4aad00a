/**
 * App framework benchmark (`npm run bench:framework`), three figures of
 * issue 7, each against real processes on 127.0.0.1:
 *
 *  1. Big deploy: a real master, 3 real agents and one framework replica;
 *     POST one app of BENCH_INSTANCES (1,000) `sleep` instances; seconds
 *     until all run, then (second app, same size, with a COMMAND health check)
 *     until all are healthy. Marathon: 14 s for 500 instances on 189 agents.
 *  2. Reaction: SIGKILL the process of one running instance; time from the
 *     kill to its replacement's TASK_RUNNING on /v2/events, BENCH_REACTIONS
 *     (20) times; p50 and p99.
 *  3. Listing: GET /v2/apps?embed=apps.tasks with 1,000 apps and 10,000
 *     tasks, p50/p99 over BENCH_LISTINGS (50) requests, and the framework's
 *     RSS. The 10,000 tasks come from a scripted master (it offers, accepts
 *     every launch and reports TASK_RUNNING): the framework process, its Raft
 *     log and its API are real; 10,000 real sleeps would measure the agents.
 *
 * Env: BENCH_INSTANCES, BENCH_REACTIONS, BENCH_LISTINGS, BENCH_APPS (1000),
 * BENCH_TASKS_PER_APP (10), BENCH_ONLY (deploy|reaction|listing).
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { SchedulerCall } from '../src/protocol/mesos-types.ts';
import { startAgent, startFramework, startMaster, type AgentHandle } from '../test/helpers/cluster.ts';
import { FakeSchedulerMaster } from '../test/helpers/fake-scheduler-master.ts';
import { api, EventRecorder, getApp, waitFor } from '../test/helpers/framework-api.ts';
import { killAllProcesses } from '../test/helpers/processes.ts';
import { makeTempDir, removeTempDirs } from '../test/helpers/tmp.ts';

const instances = Number(process.env.BENCH_INSTANCES ?? 1000);
const reactions = Number(process.env.BENCH_REACTIONS ?? 20);
const listings = Number(process.env.BENCH_LISTINGS ?? 50);
const listApps = Number(process.env.BENCH_APPS ?? 1000);
const tasksPerApp = Number(process.env.BENCH_TASKS_PER_APP ?? 10);
const only = process.env.BENCH_ONLY;

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) / 1024;
}

async function realCluster(root: string): Promise<{ base: string; agents: AgentHandle[] }> {
  const master = await startMaster({ workDir: path.join(root, 'master'), extraArgs: ['--allocation-interval', '100ms'] });
  const agents: AgentHandle[] = [];
  for (let i = 1; i <= 3; i++) {
    agents.push(await startAgent({
      master: master.address, workDir: path.join(root, `agent-${i}`), ip: `127.0.0.${i}`, name: `agent-${i}`,
      resources: `cpus:64;mem:65536;disk:10000;ports:[${31000 + i * 1000}-${31999 + i * 1000}]`,
      extraArgs: ['--max-concurrent-launches', '16', '--kill-tasks-on-exit'],
    }));
  }
  const fw = await startFramework({ master: master.address, dataDir: path.join(root, 'framework') });
  await waitFor('framework subscribed', async () => ((await api(fw.url, 'GET', '/v2/info')).body as { frameworkId: string | null }).frameworkId ?? undefined, 60_000);
  return { base: fw.url, agents };
}

async function bigDeploy(base: string, id: string, healthCheck: boolean): Promise<{ runningS: number; healthyS: number | undefined }> {
  const t0 = performance.now();
  const body = {
    id, cmd: 'exec sleep 3600', cpus: 0.001, mem: 1, instances,
    ...(healthCheck ? { healthChecks: [{ protocol: 'COMMAND', command: { value: 'true' }, gracePeriodSeconds: 60, intervalSeconds: 2, timeoutSeconds: 5 }] } : {}),
  };
  const r = await api(base, 'POST', '/v2/apps', body);
  if (r.status !== 201) throw new Error(`POST ${id}: ${r.status} ${r.text}`);
  let runningS: number | undefined;
  let healthyS: number | undefined;
  await waitFor(`${id}: ${instances} ${healthCheck ? 'healthy' : 'running'}`, async () => {
    const a = await getApp(base, id);
    if (a === undefined) return undefined;
    if (runningS === undefined && a.tasksRunning === instances) runningS = (performance.now() - t0) / 1000;
    if (healthCheck && healthyS === undefined && a.tasksHealthy === instances) healthyS = (performance.now() - t0) / 1000;
    return runningS !== undefined && (!healthCheck || healthyS !== undefined) ? true : undefined;
  }, 10 * 60_000, 100);
  return { runningS: runningS ?? NaN, healthyS };
}

/** The pid of a task's `sleep`, found by the MESOS_TASK_ID in its environment. */
function pidOfTask(taskId: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'utf8');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.startsWith('sleep') && env.includes(`MESOS_TASK_ID=${taskId}\0`)) return Number(d);
    } catch {
      // gone
    }
  }
  return undefined;
}


async function reaction(base: string): Promise<number[]> {
  const id = '/bench/react';
  const r = await api(base, 'POST', '/v2/apps', { id, cmd: 'exec sleep 3600', cpus: 0.01, mem: 1, instances: 1, backoffSeconds: 0, backoffFactor: 1 });
  if (r.status !== 201) throw new Error(`POST ${id}: ${r.status} ${r.text}`);
  const out: number[] = [];
  const events = new EventRecorder(base);
  await events.ready;
  for (let i = 0; i < reactions; i++) {
    const app = await waitFor('one running', async () => {
      const a = await getApp(base, id);
      return a?.tasks?.length === 1 && a.tasks[0]?.state === 'TASK_RUNNING' ? a : undefined;
    }, 60_000, 20);
    const taskId = app.tasks?.[0]?.id as string;
    const pid = await waitFor('the task pid', async () => pidOfTask(taskId), 10_000, 20);
    const seen = events.events.length;
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    await waitFor('the replacement running', async () => (events.events.slice(seen).some((e) => e.event === 'status_update_event' && e.data.appId === id && e.data.taskId !== taskId && e.data.taskStatus === 'TASK_RUNNING') ? true : undefined), 60_000, 2);
    out.push(performance.now() - t0);
  }
  events.close();
  return out.sort((a, b) => a - b);
}

/** A scripted master: offers plenty, accepts every LAUNCH and reports each task RUNNING. */
async function scriptedMaster(): Promise<FakeSchedulerMaster> {
  const m = new FakeSchedulerMaster();
  await m.start();
  let offerSeq = 0;
  const offer = () => ({
    id: { value: `o-${offerSeq++}` }, framework_id: { value: 'fw-1' }, agent_id: { value: `agent-${offerSeq % 10}` }, hostname: `10.0.0.${offerSeq % 10}`,
    resources: [
      { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 1000 } },
      { name: 'mem', type: 'SCALAR' as const, scalar: { value: 1_000_000 } },
      { name: 'disk', type: 'SCALAR' as const, scalar: { value: 1_000_000 } },
      { name: 'ports', type: 'RANGES' as const, ranges: { range: [{ begin: 20000, end: 60000 }] } },
    ],
  });
  const handled = new Set<number>();
  const timer = setInterval(() => {
    if (m.currentStreamId === undefined) return;
    m.calls.forEach((c, i) => {
      if (handled.has(i)) return;
      handled.add(i);
      const call: SchedulerCall = c.call;
      if (call.type !== 'ACCEPT') return;
      for (const op of call.accept?.operations ?? []) {
        for (const t of op.launch?.task_infos ?? []) {
          m.send({ type: 'UPDATE', update: { status: { task_id: t.task_id, state: 'TASK_RUNNING', agent_id: t.agent_id, timestamp: Date.now() / 1000, uuid: Buffer.from(t.task_id.value).toString('base64').slice(0, 22) } } });
        }
      }
    });
    try {
      m.send({ type: 'OFFERS', offers: { offers: Array.from({ length: 10 }, offer) } });
    } catch {
      // stream closed
    }
  }, 100);
  timer.unref();
  return m;
}

async function listing(root: string): Promise<{ p50: number; p99: number; rss: number; bytes: number; tasks: number }> {
  const m = await scriptedMaster();
  const fw = await startFramework({ master: m.address, dataDir: path.join(root, 'list-framework') });
  await waitFor('subscribed', async () => ((await api(fw.url, 'GET', '/v2/info')).body as { frameworkId: string | null }).frameworkId ?? undefined, 60_000);
  for (let i = 0; i < listApps; i++) {
    const r = await api(fw.url, 'POST', '/v2/apps', { id: `/list/app-${i}`, cmd: 'sleep 1', cpus: 0.001, mem: 1, instances: tasksPerApp, portDefinitions: [{ port: 0 }] });
    if (r.status !== 201) throw new Error(`POST: ${r.status} ${r.text}`);
  }
  const total = listApps * tasksPerApp;
  await waitFor(`${total} tasks running`, async () => {
    const r = await api(fw.url, 'GET', '/v2/tasks?status=running', undefined, { 'cygnet-stale-ok': 'true' });
    return (r.body as { tasks: unknown[] }).tasks.length >= total ? true : undefined;
  }, 10 * 60_000, 1000);
  const lat: number[] = [];
  let bytes = 0;
  for (let i = 0; i < listings; i++) {
    const t0 = performance.now();
    const res = await request(`${fw.url}/v2/apps?embed=apps.tasks`);
    const body = await res.body.arrayBuffer();
    lat.push(performance.now() - t0);
    bytes = body.byteLength;
  }
  lat.sort((a, b) => a - b);
  const rss = rssMb(fw.proc.pid);
  await m.stop();
  return { p50: pct(lat, 50), p99: pct(lat, 99), rss, bytes, tasks: total };
}

async function main(): Promise<void> {
  const root = await makeTempDir('cygnet-bench-framework-');
  const lines: string[] = [];
  lines.push(`# framework benchmark — ${new Date().toISOString()}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  try {
    if (only === undefined || only === 'deploy' || only === 'reaction') {
      const { base } = await realCluster(root);
      if (only === undefined || only === 'deploy') {
        const plain = await bigDeploy(base, '/bench/big', false);
        await api(base, 'DELETE', '/v2/apps/bench/big');
        await waitFor('big app gone', async () => ((await api(base, 'GET', '/v2/tasks')).body as { tasks: unknown[] }).tasks.length === 0 ? true : undefined, 5 * 60_000, 500);
        const checked = await bigDeploy(base, '/bench/big-checked', true);
        await api(base, 'DELETE', '/v2/apps/bench/big-checked');
        lines.push('', `| big deploy (${instances} instances, 3 agents) | seconds |`, '|---|---:|',
          `| POST → all running | ${plain.runningS.toFixed(1)} |`,
          `| POST → all running (with a COMMAND health check) | ${checked.runningS.toFixed(1)} |`,
          `| POST → all healthy | ${checked.healthyS?.toFixed(1) ?? 'n/a'} |`);
      }
      if (only === undefined || only === 'reaction') {
        const r = await reaction(base);
        lines.push('', `| reaction: task SIGKILLed → replacement TASK_RUNNING (${r.length} runs) | ms |`, '|---|---:|', `| p50 | ${pct(r, 50).toFixed(0)} |`, `| p99 | ${pct(r, 99).toFixed(0)} |`);
      }
      await killAllProcesses();
    }
    if (only === undefined || only === 'listing') {
      const l = await listing(root);
      lines.push('', `| GET /v2/apps?embed=apps.tasks (${listApps} apps, ${l.tasks} tasks, ${(l.bytes / 1e6).toFixed(1)} MB) | |`, '|---|---:|',
        `| p50 | ${l.p50.toFixed(0)} ms |`, `| p99 | ${l.p99.toFixed(0)} ms |`, `| framework RSS | ${l.rss.toFixed(0)} MiB |`);
    }
  } finally {
    await killAllProcesses();
    await removeTempDirs();
  }
  console.log(lines.join('\n'));
}

await main();
