/**
 * cygnet's proxy vs HAProxy and nginx (Debian's, installed if missing),
 * side by side in one run, same 3 Node backends, same workers/threads:
 *  1. req/s and p50/p99 with `wrk -c64`, at 1 worker each and 2 each,
 *     systems interleaved round by round (plus one backend direct, and the
 *     issue's baseline, a naive http-proxy-3 balancer, at 1 worker);
 *  2. a routing change under load: wrk through cygnet while backends are
 *     replaced through the watch (start new → ENDPOINT_UP → ENDPOINT_DOWN
 *     old → kill it), and the harsher crash order (kill, then DOWN);
 *  3. cygnet's table swap vs a HAProxy reload (`-sf`, what marathon-lb does
 *     on every change) under the same wrk load: failed requests and p99
 *     over a run in which the change repeats every 500 ms;
 *  4. propagation: ENDPOINT_UP published → first request answered by the
 *     new instance (an app that had none), p50/p99;
 *  5. new connections a second: `wrk -c64` with `Connection: close` (one
 *     request per connection), the three systems at 1 and 2 workers, and
 *     how many connections cygnet's workers passed to each other.
 *  6. (only when asked) 1,000 connections opened at once, `wrk -t2 -c1000`;
 *  7. (only when asked) where a request's time goes: tcpdump on lo during
 *     each system's wrk run, every request followed by an id from wrk to
 *     its backend and back (bench/lib/wire-latency.ts): the time in the
 *     balancer, in the backend and in wrk, p50/p99 each.
 * With `--control`, part 1 also measures a second, identical cygnet: the
 * spread of cygnet against its own copy is what a ratio against HAProxy or
 * nginx has to exceed before it says more than the machine's noise.
 * Prints markdown; the machine is shared, so `uptime` goes with each part.
 *
 *   npm run bench:proxy [-- --seconds 10 --rounds 2 --workers 1,2 --propagations 100]
 */
import { Command } from 'commander';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { RegistryEndpoint } from '../src/registry/types.ts';
import { freePorts } from '../test/integration/raft/helpers.ts';
import { startReplica, type Replica } from '../test/helpers/registry-harness.ts';
import { percentile } from './lib/load.ts';
import { cpuMs, processTree } from './lib/proc-cpu.ts';
import { ensureTools, HaproxyProcess, startBackend, startCygnet, startNaive, startNginx, type Backend, type Balancer } from './lib/proxy-peers.ts';
import { attribute, readPcap, wrkIdScript, type LatencyLegs } from './lib/wire-latency.ts';
import { runWrk, type WrkResult } from './lib/wrk.ts';

const program = new Command('proxy.bench')
  .option('--seconds <n>', 'duration of each wrk run', '10')
  .option('--rounds <n>', 'interleaved rounds per system in part 1', '2')
  .option('--workers <list>', 'workers/threads per system in part 1', '1,2')
  .option('--threads <n>', 'wrk threads', '1')
  .option('--propagations <n>', 'ENDPOINT_UP → first routed request samples', '100')
  .option('--parts <list>', 'which parts to run (6, a burst of 1,000 connections, and 7, the time per leg from a capture, only when asked)', '1,2,3,4,5')
  .option('--warmup <n>', 'seconds of unrecorded wrk per system before measuring', '5')
  .option('--no-naive', 'skip the naive http-proxy-3 baseline')
  .option('--control', 'part 1 also runs a second, identical cygnet: its ratio to the first is the noise floor of the comparison')
  .parse(process.argv.slice(2), { from: 'user' });
const opts = program.opts<{ seconds: string; rounds: string; workers: string; threads: string; propagations: string; parts: string; warmup: string; naive: boolean; control?: boolean }>();
const NAIVE = opts.naive;
const CONTROL = opts.control === true;
const SECONDS = Number(opts.seconds);
const ROUNDS = Number(opts.rounds);
const WORKERS = opts.workers.split(',').map(Number);
const THREADS = Number(opts.threads);
const PROPAGATIONS = Number(opts.propagations);
const PARTS = new Set(opts.parts.split(',').map(Number));
const WARMUP_SECONDS = Number(opts.warmup);
const HOST = 'web.bench.cygnet';
const APP = '/bench/web';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (line: string): void => { process.stderr.write(`${line}\n`); };
const uptime = (): string => execFileSync('uptime').toString().trim().replace(/^.*load average/, 'load average');
const fmt = (r: WrkResult): string => `${Math.round(r.perSecond)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.failed}`;

/** wrk through one balancer, with the CPU its processes used per request (µs, user + system). */
async function measure(s: Pick<Balancer, 'pids' | 'split'>, port: number): Promise<{ r: WrkResult; cpuUsPerReq: string; split: string }> {
  const pids = processTree(s.pids());
  const before = cpuMs(pids);
  const wrk = runWrk({ url: `http://127.0.0.1:${port}/`, connections: 64, threads: THREADS, seconds: SECONDS, host: HOST });
  // Halfway through, how wrk's connections sit on the workers.
  const split = s.split === undefined ? '–' : await sleep((SECONDS * 1000) / 2).then(() => (s.split as () => Promise<string>)());
  const r = await wrk;
  const after = cpuMs(pids);
  const per = (ms: number): string => (r.requests > 0 ? ((ms * 1000) / r.requests).toFixed(0) : '–');
  return { r, split, cpuUsPerReq: `${per(after.userMs - before.userMs + after.sysMs - before.sysMs)} (${per(after.userMs - before.userMs)} + ${per(after.sysMs - before.sysMs)})` };
}

let taskSeq = 0;
function endpointFor(b: Backend, appId = APP): RegistryEndpoint {
  const n = taskSeq++;
  return { appId, taskId: `${b.name}.${n}`, index: n, host: 'localhost', ip: '127.0.0.1', ports: [b.port], version: '2026-01-01T00:00:00.000Z', healthySince: new Date().toISOString() };
}

async function main(): Promise<void> {
  ensureTools(PARTS.has(7) ? ['tcpdump'] : []);
  const dir = await mkdtemp(join(tmpdir(), 'cygnet-proxy-bench-'));
  const replica = await startReplica({ heartbeatIntervalMs: 1_000 });
  const backends = await Promise.all(['b0', 'b1', 'b2'].map((n) => startBackend(n)));
  replica.publisher.publish({ type: 'APP_UPDATED', app: { id: APP, labels: {}, ports: [{ protocol: 'tcp', servicePort: 0, labels: {} }] } });
  const live = new Map<Backend, RegistryEndpoint>();
  for (const b of backends) {
    const ep = endpointFor(b);
    live.set(b, ep);
    replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: ep });
  }
  const out: string[] = [];
  out.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}; shared with other engineers while measured. wrk ${THREADS} thread(s), 64 connections, ${SECONDS} s per run; backends: 3 single-process node:http servers (20-byte body).`, '');
  try {
    if (PARTS.has(1)) await partThroughput(dir, replica, backends, out);
    if (PARTS.has(2)) await partRoutingChange(dir, replica, live, out);
    if (PARTS.has(3)) await partSwapVsReload(dir, replica, live, out);
    if (PARTS.has(4)) await partPropagation(dir, replica, out);
    if (PARTS.has(5)) await partNewConnections(dir, replica, [...live.keys()], out);
    if (PARTS.has(6)) await partConnectionBurst(dir, replica, [...live.keys()], out);
    if (PARTS.has(7)) await partWhereTimeGoes(dir, replica, [...live.keys()], out);
  } finally {
    await Promise.all(pendingKills);
    await Promise.all([...backends, ...live.keys()].map((b) => b.kill()));
    await replica.stop();
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

async function partThroughput(dir: string, replica: Replica, backends: readonly Backend[], out: string[]): Promise<void> {
  out.push('### Requests per second and latency (`wrk -c64`)', '', 'CPU µs/req: CPU time the balancer\'s processes used during the run over the requests served (user + system) — the steadiest figure on a shared machine.', '', '| system | workers/threads | round | load avg (1/5/15 min) | req/s | p50 ms | p99 ms | failed | CPU µs/req (user + sys) | connections per worker |', '|---|---:|---:|---|---:|---:|---:|---:|---:|---|');
  const first = backends[0] as Backend;
  const load0 = uptime();
  const direct = await measure({ pids: () => [first.proc.pid as number] }, first.port);
  out.push(`| one backend direct | – | 1 | ${load0} | ${fmt(direct.r)} | ${direct.cpuUsPerReq} | – |`);
  log(`direct: ${fmt(direct.r)}`);
  const ports = backends.map((b) => b.port);
  const summary: string[] = [];
  const paired: string[] = [];
  for (const workers of WORKERS) {
    const [p1, p2, p3, p4, admin, p5, admin2] = await freePorts(7) as [number, number, number, number, number, number, number];
    const systems = await startSideBySide(dir, replica, ports, workers, [p1, p2, p3], admin);
    if (CONTROL) {
      // Same code, same flags, another process: whatever separates it from the first is the machine, not the proxy.
      const copy = await startCygnet(p5, admin2, replica.url, workers, HOST);
      systems.push({ ...copy, name: `${copy.name}, second copy` });
    }
    // The issue's baseline, at 1 worker only (it has no workers).
    if (workers === 1 && NAIVE) systems.push(await startNaive(p4, ports, HOST));
    const runs = new Map<string, { perSecond: number[]; p99Ms: number[] }>(systems.map((s) => [s.name, { perSecond: [], p99Ms: [] }]));
    try {
      // Warm-up, not recorded: V8 needs some thousands of requests to optimize cygnet's hot path, and every system gets the same.
      for (const s of systems) await runWrk({ url: `http://127.0.0.1:${s.port}/`, connections: 64, threads: THREADS, seconds: WARMUP_SECONDS, host: HOST });
      for (let round = 1; round <= ROUNDS; round++) {
        for (const s of inRoundOrder(systems, round)) {
          const load = uptime();
          const { r, cpuUsPerReq, split } = await measure(s, s.port);
          runs.get(s.name)?.perSecond.push(r.perSecond);
          runs.get(s.name)?.p99Ms.push(r.p99Ms);
          out.push(`| ${s.name} | ${workers} | ${round} | ${load} | ${fmt(r)} | ${cpuUsPerReq} | ${split} |`);
          log(`${s.name} round ${round}: ${fmt(r)} cpu ${cpuUsPerReq} split ${split}`);
        }
      }
    } finally {
      for (const s of systems) await s.stop();
    }
    for (const [name, v] of runs) {
      summary.push(`| ${name} | ${workers} | ${v.perSecond.length} | ${Math.round(median(v.perSecond))} | ${Math.round(Math.min(...v.perSecond))}–${Math.round(Math.max(...v.perSecond))} | ${median(v.p99Ms).toFixed(2)} | ${Math.min(...v.p99Ms).toFixed(2)}–${Math.max(...v.p99Ms).toFixed(2)} |`);
    }
    const ours = runs.get(systems[0]?.name ?? '');
    for (const [name, v] of runs) if (ours !== undefined && v !== ours) paired.push(`| ${workers} | ${name} | ${pairedRow(ours, v)} |`);
  }
  out.push('', '#### Over the rounds', '', '| system | workers/threads | rounds | median req/s | range | median p99 ms | range |', '|---|---:|---:|---:|---|---:|---|', ...summary, '');
  out.push('#### cygnet against each, round by round', '', 'Each round\'s runs follow each other within a minute, so a round compares systems under nearly the same machine; the order rotates every round so that none always runs first.', '', '| workers/threads | against | cygnet more req/s in | cygnet/other req/s, median (range) | cygnet lower p99 in | cygnet/other p99, median (range) |', '|---:|---|---:|---|---:|---|', ...paired, '');
}

/** Round r starts with the r-th system: a fixed order would hand the same neighbour (and the same drift of the machine's load) to the same system every round. */
function inRoundOrder<T>(systems: readonly T[], round: number): T[] {
  const k = (round - 1) % systems.length;
  return [...systems.slice(k), ...systems.slice(0, k)];
}

/** Round-by-round ratios of cygnet's figures to another system's (the runs of one round share the machine's state, so the ratios spread far less than either system's own figures). */
function pairedRow(ours: { perSecond: number[]; p99Ms: number[] }, other: { perSecond: number[]; p99Ms: number[] }): string {
  const n = Math.min(ours.perSecond.length, other.perSecond.length);
  const rate = Array.from({ length: n }, (_, i) => (ours.perSecond[i] as number) / (other.perSecond[i] as number));
  const p99 = Array.from({ length: n }, (_, i) => (ours.p99Ms[i] as number) / (other.p99Ms[i] as number));
  const range = (xs: number[]): string => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
  return `${rate.filter((x) => x > 1).length} of ${n} | ${range(rate)} | ${p99.filter((x) => x < 1).length} of ${n} | ${range(p99)}`;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function partNewConnections(dir: string, replica: Replica, backends: readonly Backend[], out: string[]): Promise<void> {
  out.push('### New connections a second (`Connection: close`)', '', 'wrk -c64 with `-H \'Connection: close\'`: every request on a new connection. "passed": connections cygnet\'s workers handed to each other during the run (they pass none while connections churn).', '', '| system | workers/threads | round | load avg | connections/s | p99 ms | failed | CPU µs/conn (user + sys) | passed |', '|---|---:|---:|---|---:|---:|---:|---:|---:|');
  const ports = backends.map((b) => b.port);
  for (const workers of WORKERS) {
    const [p1, p2, p3, admin] = await freePorts(4) as [number, number, number, number];
    const systems = await startSideBySide(dir, replica, ports, workers, [p1, p2, p3], admin);
    const passed = async (s: Balancer): Promise<number> => (s === systems[0] ? metricSum(admin, 'cygnet_proxy_connections_passed_total') : 0);
    try {
      for (const s of systems) await runWrk({ url: `http://127.0.0.1:${s.port}/`, connections: 64, threads: THREADS, seconds: WARMUP_SECONDS, host: HOST, headers: ['Connection: close'] });
      for (let round = 1; round <= ROUNDS; round++) {
        for (const s of inRoundOrder(systems, round)) {
          const load = uptime();
          const pids = processTree(s.pids());
          const before = cpuMs(pids);
          const passedBefore = await passed(s);
          const r = await runWrk({ url: `http://127.0.0.1:${s.port}/`, connections: 64, threads: THREADS, seconds: SECONDS, host: HOST, headers: ['Connection: close'] });
          const after = cpuMs(pids);
          const per = (ms: number): string => (r.requests > 0 ? ((ms * 1000) / r.requests).toFixed(0) : '–');
          const cpu = `${per(after.userMs - before.userMs + after.sysMs - before.sysMs)} (${per(after.userMs - before.userMs)} + ${per(after.sysMs - before.sysMs)})`;
          const passes = s === systems[0] ? String((await passed(s)) - passedBefore) : '–';
          out.push(`| ${s.name} | ${workers} | ${round} | ${load} | ${Math.round(r.perSecond)} | ${r.p99Ms.toFixed(2)} | ${r.failed} | ${cpu} | ${passes} |`);
          log(`new connections, ${s.name} round ${round}: ${Math.round(r.perSecond)}/s p99 ${r.p99Ms.toFixed(2)} failed ${r.failed} cpu ${cpu} passed ${passes}`);
        }
      }
    } finally {
      for (const s of systems) await s.stop();
    }
  }
  out.push('');
}

/**
 * Part 6 (not run by default): wrk -t2 -c1000 after the usual warm-up, so
 * each run starts with 1,000 connections opened at once against a
 * balancer that is already busy. Listen overflows are the kernel's count
 * (nstat) of connections dropped because the accept queue was full.
 */
async function partConnectionBurst(dir: string, replica: Replica, backends: readonly Backend[], out: string[]): Promise<void> {
  out.push('### 1,000 connections at once (`wrk -t2 -c1000`)', '', '| system | workers/threads | round | load avg | req/s | p50 ms | p99 ms | max ms | failed | listen overflows |', '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  const ports = backends.map((b) => b.port);
  const overflows = (): number => {
    try {
      const line = execFileSync('nstat', ['-az', 'TcpExtListenOverflows']).toString().split('\n').find((l) => l.startsWith('TcpExtListenOverflows'));
      return Number(line?.trim().split(/\s+/)[1] ?? NaN);
    } catch {
      return NaN;
    }
  };
  for (const workers of WORKERS) {
    const [p1, p2, p3, admin] = await freePorts(4) as [number, number, number, number];
    const systems = await startSideBySide(dir, replica, ports, workers, [p1, p2, p3], admin);
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        for (const s of inRoundOrder(systems, round)) {
          await runWrk({ url: `http://127.0.0.1:${s.port}/`, connections: 64, threads: THREADS, seconds: WARMUP_SECONDS, host: HOST });
          const load = uptime();
          const before = overflows();
          const r = await runWrk({ url: `http://127.0.0.1:${s.port}/`, connections: 1000, threads: 2, seconds: SECONDS, host: HOST });
          const dropped = overflows() - before;
          out.push(`| ${s.name} | ${workers} | ${round} | ${load} | ${Math.round(r.perSecond)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.maxMs.toFixed(0)} | ${r.failed} | ${Number.isNaN(dropped) ? '–' : dropped} |`);
          log(`burst, ${s.name} round ${round}: ${Math.round(r.perSecond)}/s p99 ${r.p99Ms.toFixed(2)} max ${r.maxMs.toFixed(0)} failed ${r.failed} overflows ${dropped}`);
        }
      }
    } finally {
      for (const s of systems) await s.stop();
    }
  }
  out.push('');
}

/** cygnet's proxy, HAProxy and nginx, in that order, with the same backends and workers. */
async function startSideBySide(dir: string, replica: Replica, ports: readonly number[], workers: number, [p1, p2, p3]: readonly number[], admin: number): Promise<Balancer[]> {
  return [
    await startCygnet(p1 as number, admin, replica.url, workers, HOST),
    await HaproxyProcess.start(dir, p2 as number, workers, ports, HOST),
    await startNginx(dir, p3 as number, workers, ports, HOST),
  ];
}

/** A counter from the proxy's /metrics, summed over its label sets. */
async function metricSum(adminPort: number, name: string): Promise<number> {
  const text = await (await request(`http://127.0.0.1:${adminPort}/metrics`)).body.text();
  return text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`)).reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
}

/** How long a graceful replacement waits between ENDPOINT_DOWN and the kill: requests already on the old instance finish (a framework's kill grace period does the same). */
const DRAIN_MS = 1_000;
const pendingKills: Promise<void>[] = [];

/** Replaces one backend every `periodMs` while wrk runs: graceful = UP new, DOWN old, kill old after DRAIN_MS; crash = kill old, DOWN old ~50 ms later, UP new. */
async function churn(replica: Replica, live: Map<Backend, RegistryEndpoint>, order: 'graceful' | 'crash', untilMs: number, periodMs: number): Promise<number> {
  let replaced = 0;
  while (performance.now() < untilMs - periodMs) {
    const t0 = performance.now();
    const [oldest, ep] = [...live.entries()][0] as [Backend, RegistryEndpoint];
    const fresh = await startBackend(`r${taskSeq}`);
    const freshEp = endpointFor(fresh);
    live.delete(oldest);
    if (order === 'graceful') {
      replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: freshEp });
      replica.publisher.publish({ type: 'ENDPOINT_DOWN', appId: APP, taskId: ep.taskId });
      pendingKills.push(sleep(DRAIN_MS).then(() => oldest.kill()));
    } else {
      await oldest.kill();
      await sleep(50);
      replica.publisher.publish({ type: 'ENDPOINT_DOWN', appId: APP, taskId: ep.taskId });
      replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: freshEp });
    }
    live.set(fresh, freshEp);
    replaced++;
    await sleep(Math.max(0, periodMs - (performance.now() - t0)));
  }
  return replaced;
}

async function partRoutingChange(_dir: string, replica: Replica, live: Map<Backend, RegistryEndpoint>, out: string[]): Promise<void> {
  out.push('### A routing change under load (cygnet, 1 worker)', '', 'wrk through cygnet while one of the 3 backends is replaced every 500 ms through the watch. "cut in flight": attempts a killed backend cut before answering (the proxy\'s `upstream_failures_total{kind="reset"}`); "refused, retried": connects refused by a dead backend still in the table, each retried on another instance.', '', '| order | load avg | backends replaced | requests | req/s | p99 ms | failed | cut in flight | refused, retried |', '|---|---|---:|---:|---:|---:|---:|---:|---:|');
  const [port, admin] = await freePorts(2) as [number, number];
  const cygnet = await startCygnet(port, admin, replica.url, 1, HOST);
  try {
    await runWrk({ url: `http://127.0.0.1:${port}/`, connections: 64, threads: THREADS, seconds: WARMUP_SECONDS, host: HOST });
    for (const order of ['graceful', 'crash'] as const) {
      const load = uptime();
      const before = await upstreamFailures(admin);
      const wrk = runWrk({ url: `http://127.0.0.1:${port}/`, connections: 64, threads: THREADS, seconds: SECONDS, host: HOST });
      const replaced = await churn(replica, live, order, performance.now() + SECONDS * 1000, 500);
      const r = await wrk;
      const after = await upstreamFailures(admin);
      out.push(`| ${order === 'graceful' ? `graceful: UP new, DOWN old, kill old ${DRAIN_MS} ms later` : 'crash: kill old, DOWN 50 ms later, UP new'} | ${load} | ${replaced} | ${r.requests} | ${Math.round(r.perSecond)} | ${r.p99Ms.toFixed(2)} | ${r.failed} (${r.socketErrors} socket, ${r.non2xx} non-2xx) | ${after.reset - before.reset} | ${after.connect - before.connect} |`);
      log(`routing change ${order}: replaced ${replaced}, ${fmt(r)}, cut ${after.reset - before.reset}, refused ${after.connect - before.connect}`);
    }
  } finally {
    await cygnet.stop();
  }
  out.push('');
}

/** The proxy's upstream failures by kind, summed over apps, from its /metrics. */
async function upstreamFailures(adminPort: number): Promise<{ reset: number; connect: number }> {
  const text = await (await request(`http://127.0.0.1:${adminPort}/metrics`)).body.text();
  const sum = (kind: string): number => text.split('\n').filter((l) => l.startsWith('cygnet_proxy_upstream_failures_total{') && l.includes(`kind="${kind}"`)).reduce((s, l) => s + Number(l.split(' ')[1]), 0);
  return { reset: sum('reset'), connect: sum('connect') };
}

async function partSwapVsReload(dir: string, replica: Replica, live: Map<Backend, RegistryEndpoint>, out: string[]): Promise<void> {
  out.push('### Table swap vs HAProxy reload, under the same load', '', 'wrk for the whole run; every 500 ms one backend leaves or comes back (cygnet: ENDPOINT_DOWN/UP through the watch, the table swapped in memory; HAProxy: the config rewritten and `haproxy -sf` reload, as marathon-lb does).', '', '| system | load avg | changes | requests | req/s | p99 ms | max ms | failed |', '|---|---|---:|---:|---:|---:|---:|---:|');
  const [p1, p2, admin] = await freePorts(3) as [number, number, number];
  const entries = [...live.entries()];
  const all = entries.map(([b]) => b.port);
  const cygnet = await startCygnet(p1, admin, replica.url, 1, HOST);
  const haproxy = await HaproxyProcess.start(dir, p2, 1, all, HOST);
  try {
    for (const port of [p1, p2]) await runWrk({ url: `http://127.0.0.1:${port}/`, connections: 64, threads: THREADS, seconds: WARMUP_SECONDS, host: HOST });
    for (const system of ['cygnet', 'haproxy'] as const) {
      const load = uptime();
      const port = system === 'cygnet' ? p1 : p2;
      const wrk = runWrk({ url: `http://127.0.0.1:${port}/`, connections: 64, threads: THREADS, seconds: SECONDS, host: HOST });
      const until = performance.now() + SECONDS * 1000 - 500;
      let changes = 0;
      while (performance.now() < until) {
        await sleep(500);
        const [victim, ep] = entries[changes % entries.length] as [Backend, RegistryEndpoint];
        const removing = changes % 2 === 0;
        if (system === 'cygnet') {
          if (removing) replica.publisher.publish({ type: 'ENDPOINT_DOWN', appId: APP, taskId: ep.taskId });
          else replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: ep });
        } else {
          await haproxy.reload(1, removing ? all.filter((p) => p !== victim.port) : all);
        }
        changes++;
      }
      const r = await wrk;
      out.push(`| ${system === 'cygnet' ? 'cygnet table swap' : 'HAProxy reload (-sf)'} | ${load} | ${changes} | ${r.requests} | ${Math.round(r.perSecond)} | ${r.p99Ms.toFixed(2)} | ${r.maxMs.toFixed(2)} | ${r.failed} (${r.socketErrors} socket, ${r.non2xx} non-2xx) |`);
      log(`${system} changes ${changes}: ${fmt(r)}`);
    }
    // Leave every backend routed for the next part.
    for (const [, ep] of entries) replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: ep });
  } finally {
    await cygnet.stop();
    await haproxy.stop();
  }
  out.push('');
}

async function partPropagation(_dir: string, replica: Replica, out: string[]): Promise<void> {
  const [port, admin] = await freePorts(2) as [number, number];
  const appId = '/bench/prop';
  const host = 'prop.bench.cygnet';
  const target = await startBackend('prop');
  const cygnet = await startCygnet(port, admin, replica.url, 1, HOST);
  const agent = new Agent({ connections: 4 });
  const load = uptime();
  const samples: number[] = [];
  try {
    replica.publisher.publish({ type: 'APP_UPDATED', app: { id: appId, labels: {}, ports: [{ protocol: 'tcp', servicePort: 0, labels: {} }] } });
    const status = async (): Promise<number> => {
      const res = await request(`http://127.0.0.1:${port}/`, { headers: { host }, dispatcher: agent });
      await res.body.text();
      return res.statusCode;
    };
    while (await status() !== 503) await sleep(5);
    for (let i = 0; i < PROPAGATIONS; i++) {
      const ep = endpointFor(target, appId);
      const t0 = performance.now();
      replica.publisher.publish({ type: 'ENDPOINT_UP', endpoint: ep });
      while (await status() !== 200) { /* spin: each probe is one request */ }
      samples.push(performance.now() - t0);
      replica.publisher.publish({ type: 'ENDPOINT_DOWN', appId, taskId: ep.taskId });
      while (await status() !== 503) await sleep(1);
      await sleep(10);
    }
  } finally {
    await agent.close();
    await cygnet.stop();
    await target.kill();
  }
  samples.sort((a, b) => a - b);
  out.push('### Propagation: ENDPOINT_UP published → first request routed to it', '', `An app with no instance (503); ENDPOINT_UP published on the watch server; requests sent back to back until one is answered by the instance. ${samples.length} samples, ${load}.`, '', '| p50 ms | p99 ms | max ms |', '|---:|---:|---:|', `| ${percentile(samples, 0.5).toFixed(2)} | ${percentile(samples, 0.99).toFixed(2)} | ${(samples[samples.length - 1] ?? NaN).toFixed(2)} |`, '');
  log(`propagation p50 ${percentile(samples, 0.5).toFixed(2)} p99 ${percentile(samples, 0.99).toFixed(2)}`);
}

await main();

/** tcpdump on lo, writing to `file` the data-carrying segments to and from `ports`; resolves once it listens. */
async function startCapture(file: string, ports: readonly number[]): Promise<{ stop(): Promise<string> }> {
  // Segments with a payload only (IP length − IP header − TCP header > 0): the acks would double the capture.
  const filter = `tcp and (${ports.map((p) => `port ${p}`).join(' or ')}) and ((ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) != 0)`;
  const proc = spawn('tcpdump', ['-i', 'lo', '-nn', '-s', '256', '-B', '262144', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = once(proc, 'exit');
  await new Promise<void>((resolve, reject) => {
    proc.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('listening on')) resolve();
    });
    void exited.then(() => reject(new Error(`tcpdump exited: ${stderr}`)));
  });
  return {
    async stop(): Promise<string> {
      proc.kill('SIGINT');
      await exited;
      return stderr;
    },
  };
}

/**
 * Part 7: each system's wrk run captured on lo, and every request followed
 * from wrk through the balancer to its backend and back. wrk's p99 holds
 * wrk's own delays, the backends' and the balancer's; this separates them.
 */
async function partWhereTimeGoes(dir: string, replica: Replica, backends: readonly Backend[], out: string[]): Promise<void> {
  const script = join(dir, 'bench-id.lua');
  await writeFile(script, wrkIdScript);
  const pcap = join(dir, 'wire.pcap');
  const backendPorts = new Set(backends.map((b) => b.port));
  const legNames = ['roundTrip', 'inBalancer', 'backend', 'clientTurnaround', 'cycle'] as const;
  type Leg = (typeof legNames)[number];
  /** p50 and p99 of one leg in ms (each run's ~250,000 samples sorted once, and only these two figures kept). */
  const p50p99 = (us: readonly number[]): [number, number] => {
    const sorted = [...us].sort((a, b) => a - b);
    return [percentile(sorted, 0.5) / 1000, percentile(sorted, 0.99) / 1000];
  };
  const fixed = (x: number): string => (Number.isNaN(x) ? '–' : x.toFixed(2));
  const pair = ([p50, p99]: readonly [number, number]): string => `${fixed(p50)} / ${fixed(p99)}`;
  out.push('### Where a request\'s time goes (tcpdump on lo)', '', 'Each system\'s wrk run captured on lo (tcpdump, segments with data only), every request numbered by wrk\'s script (`X-Bench-Id`) and followed to its backend and back. On lo a segment is stamped when its sender writes it, so "in the balancer" is the request\'s way in (wrk\'s write → the balancer\'s write upstream) plus the answer\'s way out (the backend\'s write → the balancer\'s write to wrk), "backend" the time between, "wire round trip" their sum, "wrk turnaround" the balancer\'s write of an answer → wrk\'s write of that connection\'s next request, and "wrk cycle" wrk\'s write of a request → its write of the next (wrk\'s latency plus a near-constant cost of its own per request). wrk\'s own latency is the round trip plus wrk\'s delays at both ends. Figures are p50 / p99 in ms. The capture costs CPU, so req/s is lower than in the first table.', '', '| system | workers/threads | round | load avg | wrk req/s | wrk p50 / p99 | wire round trip | in the balancer | backend | wrk turnaround | wrk cycle | requests followed | dropped by the capture | connections per worker |', '|---|---:|---:|---|---:|---|---|---|---|---|---|---:|---:|---|');
  const summary: string[] = [];
  for (const workers of WORKERS) {
    const [p1, p2, p3, admin] = await freePorts(4) as [number, number, number, number];
    const systems = await startSideBySide(dir, replica, [...backendPorts], workers, [p1, p2, p3], admin);
    const runs = new Map<string, { wrk: WrkResult[]; legs: Record<Leg, [number, number]>[] }>(systems.map((s) => [s.name, { wrk: [], legs: [] }]));
    try {
      for (const s of systems) await runWrk({ url: `http://127.0.0.1:${s.port}/`, connections: 64, threads: THREADS, seconds: WARMUP_SECONDS, host: HOST, script });
      for (let round = 1; round <= ROUNDS; round++) {
        for (const s of inRoundOrder(systems, round)) {
          const load = uptime();
          const capture = await startCapture(pcap, [s.port, ...backendPorts]);
          let r: WrkResult;
          let split = '–';
          let stderr: string;
          try {
            const wrk = runWrk({ url: `http://127.0.0.1:${s.port}/`, connections: 64, threads: THREADS, seconds: SECONDS, host: HOST, script });
            if (s.split !== undefined) split = await sleep((SECONDS * 1000) / 2).then(s.split);
            r = await wrk;
          } finally {
            stderr = await capture.stop();
          }
          const dropped = /(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? '?';
          const all: LatencyLegs = attribute(readPcap(await readFile(pcap)), s.port, backendPorts);
          await rm(pcap, { force: true });
          const legs = Object.fromEntries(legNames.map((name) => [name, p50p99(all[name])])) as Record<Leg, [number, number]>;
          runs.get(s.name)?.wrk.push(r);
          runs.get(s.name)?.legs.push(legs);
          out.push(`| ${s.name} | ${workers} | ${round} | ${load} | ${Math.round(r.perSecond)} | ${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)} | ${legNames.map((name) => pair(legs[name])).join(' | ')} | ${all.roundTrip.length} of ${all.roundTrip.length + all.unmatched} | ${dropped} | ${split} |`);
          log(`${s.name} round ${round}: wrk ${Math.round(r.perSecond)}/s p99 ${r.p99Ms.toFixed(2)}; wire ${pair(legs.roundTrip)}, balancer ${pair(legs.inBalancer)}, backend ${pair(legs.backend)}, turnaround ${pair(legs.clientTurnaround)}`);
        }
      }
    } finally {
      for (const s of systems) await s.stop();
    }
    for (const [name, v] of runs) {
      const medians = (leg: Leg): [number, number] => [median(v.legs.map((l) => l[leg][0])), median(v.legs.map((l) => l[leg][1]))];
      summary.push(`| ${name} | ${workers} | ${v.wrk.length} | ${Math.round(median(v.wrk.map((r) => r.perSecond)))} | ${median(v.wrk.map((r) => r.p99Ms)).toFixed(2)} | ${legNames.map((leg) => pair(medians(leg))).join(' | ')} |`);
    }
  }
  out.push('', 'Medians over the rounds (of each round\'s p50 and p99):', '', '| system | workers/threads | rounds | wrk req/s | wrk p99 | wire round trip | in the balancer | backend | wrk turnaround | wrk cycle |', '|---|---:|---:|---:|---:|---|---|---|---|---|', ...summary, '');
}
