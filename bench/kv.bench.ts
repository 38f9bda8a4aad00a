/**
 * examples/kv vs etcd 3.4, side by side in one run on this machine:
 *  1. write throughput and p50/p99 latency, 256-byte values, fsync on, with
 *     1, 16 and 256 concurrent closed-loop clients (undici), against the
 *     leader of each 3-member cluster;
 *  2. fail-over: SIGKILL the leader, time until the next write commits
 *     (writes retried against the survivors), repeated N times, p50/p99/max.
 * Brings both clusters up on 127.0.0.1 and tears them down; prints markdown.
 *
 *   npm run bench:kv [-- --duration-ms 8000 --failovers 12 --no-etcd]
 */
import { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { KvClient } from '../examples/kv/client.ts';
import { KvProcessCluster } from '../examples/kv/local-cluster.ts';
import { EtcdCluster, etcdPut } from './lib/etcd-cluster.ts';
import { percentile, runLoad, type LoadResult } from './lib/load.ts';
import { freePorts } from '../test/integration/raft/helpers.ts';

const program = new Command('kv.bench')
  .option('--duration-ms <n>', 'duration of each load level', '8000')
  .option('--failovers <n>', 'leader kills per system', '12')
  .option('--concurrency <list>', 'client counts', '1,16,256')
  .option('--no-etcd', 'skip etcd')
  .parse(process.argv.slice(2), { from: 'user' });
const opts = program.opts<{ durationMs: string; failovers: string; concurrency: string; etcd: boolean }>();
const DURATION_MS = Number(opts.durationMs);
const FAILOVERS = Number(opts.failovers);
const LEVELS = opts.concurrency.split(',').map(Number);
const KEYS = 1000;
const VALUE = Buffer.alloc(256, 'v');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface SystemResult {
  readonly name: string;
  readonly loads: LoadResult[];
  readonly failoverMs: number[];
}

async function benchKv(dir: string): Promise<SystemResult> {
  const cluster = new KvProcessCluster(join(dir, 'kv'), await freePorts(6));
  try {
    await Promise.all([1, 2, 3].map((id) => cluster.start(id)));
    await Promise.all([1, 2, 3].map((id) => cluster.waitServing(id)));
    const loads: LoadResult[] = [];
    for (const c of LEVELS) {
      const leader = await cluster.waitLeader();
      const agent = new Agent({ connections: c, keepAliveTimeout: 30_000, pipelining: 1 });
      const client = new KvClient([cluster.member(leader).http], { timeoutMs: 10_000, dispatcher: agent });
      loads.push(await runLoad(c, DURATION_MS, async (w, seq) => (await client.put(`k${(w * 7919 + seq) % KEYS}`, VALUE)).kind === 'ok'));
      await agent.close();
      log(`kv c=${c}: ${fmtLoad(loads[loads.length - 1] as LoadResult)}`);
    }
    const failoverMs: number[] = [];
    for (let i = 0; i < FAILOVERS; i++) {
      const leader = await cluster.waitLeader();
      await waitKvCaughtUp(cluster);
      const survivors = [1, 2, 3].filter((id) => id !== leader).map((id) => cluster.member(id).http);
      const agent = new Agent({ keepAliveTimeout: 30_000 });
      const client = new KvClient(survivors, { timeoutMs: 500, dispatcher: agent });
      const t0 = performance.now();
      await cluster.kill(leader, 'SIGKILL');
      for (let n = 0; ; n++) {
        const o = await client.put(`failover-${i}`, VALUE);
        if (o.kind === 'ok') break;
        client.rotate();
        await sleep(5);
      }
      failoverMs.push(performance.now() - t0);
      await agent.close();
      log(`kv failover ${i + 1}: ${(failoverMs[failoverMs.length - 1] as number).toFixed(0)} ms`);
      await cluster.start(leader);
      await cluster.waitServing(leader);
    }
    return { name: 'cygnet examples/kv', loads, failoverMs };
  } finally {
    await cluster.stop();
  }
}

async function waitKvCaughtUp(cluster: KvProcessCluster): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const st = await Promise.all([1, 2, 3].map((id) => cluster.status(id)));
    const commits = st.map((s) => s?.applied ?? -1);
    if (commits.every((c) => c >= 0 && c === commits[0]) && st.some((s) => s?.role === 'leader')) {
      await sleep(300);
      return;
    }
    await sleep(50);
  }
}

async function benchEtcd(dir: string): Promise<SystemResult> {
  const cluster = new EtcdCluster(join(dir, 'etcd'), await freePorts(6));
  try {
    await Promise.all([1, 2, 3].map((id) => cluster.start(id)));
    const loads: LoadResult[] = [];
    for (const c of LEVELS) {
      const leader = await cluster.waitLeader();
      const agent = new Agent({ connections: c, keepAliveTimeout: 30_000, pipelining: 1 });
      const addr = cluster.member(leader).client;
      loads.push(await runLoad(c, DURATION_MS, (w, seq) => etcdPut(agent, addr, `k${(w * 7919 + seq) % KEYS}`, VALUE, 10_000)));
      await agent.close();
      log(`etcd c=${c}: ${fmtLoad(loads[loads.length - 1] as LoadResult)}`);
    }
    const failoverMs: number[] = [];
    for (let i = 0; i < FAILOVERS; i++) {
      const leader = await cluster.waitLeader();
      await sleep(500);
      const survivors = [1, 2, 3].filter((id) => id !== leader).map((id) => cluster.member(id).client);
      const agent = new Agent({ keepAliveTimeout: 30_000 });
      const t0 = performance.now();
      await cluster.kill(leader);
      for (let n = 0; ; n++) {
        if (await etcdPut(agent, survivors[n % survivors.length] as string, `failover-${i}`, VALUE, 500)) break;
        await sleep(5);
      }
      failoverMs.push(performance.now() - t0);
      await agent.close();
      log(`etcd failover ${i + 1}: ${(failoverMs[failoverMs.length - 1] as number).toFixed(0)} ms`);
      await cluster.start(leader, 'existing');
      await sleep(1000);
    }
    return { name: 'etcd 3.4 (v3 JSON gateway)', loads, failoverMs };
  } finally {
    await cluster.stop();
  }
}

function fmtLoad(l: LoadResult): string {
  return `${l.perSecond.toFixed(0)} writes/s, p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms (${l.failed} failed)`;
}

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

function report(results: SystemResult[], loadBefore: number): string {
  const lines: string[] = [];
  lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z; ${DURATION_MS} ms per level, 256-byte values, ${KEYS} keys, fsync on; 1-min load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] as number).toFixed(1)} after.`);
  lines.push('');
  lines.push('| system | clients | writes/s | p50 ms | p99 ms | failed |');
  lines.push('|---|---:|---:|---:|---:|---:|');
  for (const r of results) for (const l of r.loads) lines.push(`| ${r.name} | ${l.concurrency} | ${l.perSecond.toFixed(0)} | ${l.p50Ms.toFixed(1)} | ${l.p99Ms.toFixed(1)} | ${l.failed} |`);
  lines.push('');
  lines.push('| system | leader SIGKILL → next committed write | runs | p50 ms | p99 ms | max ms |');
  lines.push('|---|---|---:|---:|---:|---:|');
  for (const r of results) {
    const s = [...r.failoverMs].sort((a, b) => a - b);
    lines.push(`| ${r.name} | | ${s.length} | ${percentile(s, 0.5).toFixed(0)} | ${percentile(s, 0.99).toFixed(0)} | ${(s[s.length - 1] ?? NaN).toFixed(0)} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cygnet-kv-bench-'));
  const loadBefore = loadavg()[0] as number;
  try {
    const results = [await benchKv(dir)];
    if (opts.etcd) results.push(await benchEtcd(dir));
    process.stdout.write(`${report(results, loadBefore)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
