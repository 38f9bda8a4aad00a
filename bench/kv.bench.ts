/**
 * examples/kv vs etcd 3.4, side by side in one run on this machine, each
 * through its native client, both 3-member clusters up at once and the loads
 * alternating (kv, then etcd, at each level) so that other work on the
 * machine hits both alike:
 *  1. writes: 256-byte values over 1000 keys, fsync on, 1/16/256 concurrent
 *     closed-loop clients against the leader. kv over HTTP with undici; etcd
 *     over gRPC with clientv3 (the Go generator in bench/etcd-load, all
 *     goroutines sharing one connection, etcd's fastest path here). Extra
 *     columns: etcd through its v3 JSON gateway (what this script used to
 *     measure; it understates etcd), and kv driven by the same Go generator
 *     over HTTP (takes Node's client cost out of kv's figure).
 *  2. linearizable reads over the same keys: kv `GET /kv/:key` (ReadIndex on
 *     the leader) vs etcd Range without WithSerializable (ReadIndex too).
 *  3. fail-over, on fresh clusters: SIGKILL the leader, time until the next
 *     write commits through the survivors, retried every 5 ms, N kills per
 *     system, kv and etcd alternating. Per attempt: kv 500 ms (a kv member
 *     without a leader refuses at once: 503, or a 307 to the dead leader),
 *     etcd 100 ms (an etcd member holds the write until the client gives up).
 * Prints markdown on stdout (progress on stderr). Needs Debian's golang-go and
 * golang-etcd-server-dev for the gRPC columns (apt-installed when missing; the
 * columns are skipped with a message if that fails).
 *
 *   npm run bench:kv [-- --duration-ms 8000 --start-warmup-ms 15000 --failovers 30 --concurrency 1,16,256
 *                        --no-etcd --no-gateway --no-go-kv --no-reads --failover-on-loaded
 *                        --etcd-args "..."]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { KvClient } from '../examples/kv/client.ts';
import { KvProcessCluster } from '../examples/kv/local-cluster.ts';
import { ETCD_BIN, EtcdCluster, etcdPut } from './lib/etcd-cluster.ts';
import { buildEtcdLoad, ensureGoTools, EtcdFailoverProbe, runGoLoad, type GoLoadResult } from './lib/etcd-load.ts';
import { percentile, runLoad, type LoadResult } from './lib/load.ts';
import { cpuMs, processTree } from './lib/proc-cpu.ts';
import { freePorts } from '../test/integration/raft/helpers.ts';

const program = new Command('kv.bench')
  .option('--duration-ms <n>', 'duration of each load level', '8000')
  .option('--warmup-ms <n>', 'unrecorded load before each measured one, for every system alike (JIT, connections, caches)', '2000')
  .option('--start-warmup-ms <n>', 'unrecorded 16-client writes on each freshly started cluster, every system alike, before the first level (a just-started node member is still compiling its hot paths and growing its heap)', '15000')
  .option('--failovers <n>', 'leader kills per system', '30')
  .option('--concurrency <list>', 'client counts', '1,16,256')
  .option('--no-etcd', 'skip etcd (kv alone)')
  .option('--no-gateway', 'skip the etcd v3 JSON gateway column')
  .option('--no-go-kv', 'skip kv driven by the Go generator')
  .option('--no-reads', 'skip linearizable reads')
  .option('--failover-on-loaded', 'kill leaders of the clusters just loaded instead of fresh ones')
  .option('--etcd-args <args>', 'extra etcd flags, space-separated (e.g. "--heartbeat-interval 50 --election-timeout 500" for kv\'s election timing)', '')
  .parse(process.argv.slice(2), { from: 'user' });
const opts = program.opts<{ durationMs: string; warmupMs: string; startWarmupMs: string; failovers: string; concurrency: string; etcd: boolean; gateway: boolean; goKv: boolean; reads: boolean; etcdArgs: string; failoverOnLoaded?: boolean }>();
const ETCD_ARGS = opts.etcdArgs.split(' ').filter((a) => a !== '');
const DURATION_MS = Number(opts.durationMs);
const WARMUP_MS = Number(opts.warmupMs);
const START_WARMUP_MS = Number(opts.startWarmupMs);
const FAILOVERS = Number(opts.failovers);
const LEVELS = opts.concurrency.split(',').map(Number);
const KEYS = 1000;
const VALUE = Buffer.alloc(256, 'v');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const keyOf = (w: number, seq: number): string => `k${(w * 7919 + seq) % KEYS}`;

/** One load level's outcome, whichever generator produced it. */
interface Level {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly failed: number;
  readonly load1: number;
  /** CPU (user + system) of the 3 server processes per completed op, µs: steadier than ops/s on a shared machine. */
  readonly serverCpuUs: number;
}

type Column = 'kv' | 'kvGo' | 'etcd' | 'gateway';
const COLUMN_NAMES: Record<Column, string> = {
  kv: 'kv (undici, HTTP)',
  kvGo: 'kv (Go net/http)',
  etcd: 'etcd (gRPC, clientv3)',
  gateway: 'etcd (v3 JSON gateway)',
};

interface Results {
  readonly writes: Map<number, Partial<Record<Column, Level>>>;
  readonly reads: Map<number, Partial<Record<Column, Level>>>;
  readonly failover: { kv: number[]; etcd: number[] };
  readonly notes: string[];
}

/** A level's figures before the server CPU is known. */
type Measured = Omit<Level, 'serverCpuUs' | 'load1'> & { readonly ops: number };

function fromNode(l: LoadResult): Measured {
  return { perSecond: l.perSecond, p50Ms: l.p50Ms, p99Ms: l.p99Ms, maxMs: l.maxMs, failed: l.failed, ops: l.ok };
}

function fromGo(r: GoLoadResult): Measured {
  if (r.errors > 0) log(`  (${r.errors} errors, first: ${r.firstError ?? '?'})`);
  return { perSecond: r.opsPerSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, maxMs: r.maxMs, failed: r.errors, ops: r.ops };
}

/** This script's descendant server processes of one system, told apart by their command line. */
function serverPids(system: 'kv' | 'etcd'): number[] {
  const isServer = (argv: string[]): boolean => (system === 'kv' ? argv.some((a) => a.endsWith('examples/kv/main.ts')) : argv[0] === ETCD_BIN);
  return processTree([process.pid]).filter((pid) => {
    try {
      return pid !== process.pid && isServer(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    } catch {
      return false; // exited meanwhile
    }
  });
}

function load1(): number {
  return loadavg()[0] as number;
}

async function kvLoad(cluster: KvProcessCluster, c: number, op: 'put' | 'get', durationMs: number): Promise<LoadResult> {
  const leader = await cluster.waitLeader();
  const agent = new Agent({ connections: c, keepAliveTimeout: 30_000, pipelining: 1 });
  const client = new KvClient([cluster.member(leader).http], { timeoutMs: 10_000, dispatcher: agent });
  try {
    return op === 'put'
      ? await runLoad(c, durationMs, async (w, seq) => (await client.put(keyOf(w, seq), VALUE)).kind === 'ok')
      : await runLoad(c, durationMs, async (w, seq) => {
          const o = await client.get(keyOf(w, seq));
          return o.kind === 'ok' && o.status === 200;
        });
  } finally {
    await agent.close();
  }
}

/** Every key written once, so that reads find a 256-byte value. */
async function seedKv(cluster: KvProcessCluster): Promise<void> {
  const leader = await cluster.waitLeader();
  const client = new KvClient([cluster.member(leader).http], { timeoutMs: 10_000 });
  await Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      for (let k = w; k < KEYS; k += 16) if ((await client.put(`k${k}`, VALUE)).kind !== 'ok') throw new Error(`seeding kv key k${k} failed`);
    }),
  );
  await client.close();
}

async function waitKvCaughtUp(cluster: KvProcessCluster): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const st = await Promise.all([1, 2, 3].map((id) => cluster.status(id)));
    const applied = st.map((s) => s?.applied ?? -1);
    if (applied.every((a) => a >= 0 && a === applied[0]) && st.some((s) => s?.role === 'leader')) {
      await sleep(300);
      return;
    }
    await sleep(50);
  }
}

async function kvFailover(cluster: KvProcessCluster, i: number): Promise<number> {
  const leader = await cluster.waitLeader();
  await waitKvCaughtUp(cluster);
  const survivors = [1, 2, 3].filter((id) => id !== leader).map((id) => cluster.member(id).http);
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const client = new KvClient(survivors, { timeoutMs: 500, dispatcher: agent });
  const t0 = performance.now();
  await cluster.kill(leader, 'SIGKILL');
  for (;;) {
    if ((await client.put(`failover-${i}`, VALUE)).kind === 'ok') break;
    client.rotate();
    await sleep(5);
  }
  const ms = performance.now() - t0;
  await agent.close();
  await cluster.start(leader);
  await cluster.waitServing(leader);
  return ms;
}

async function startEtcd(etcd: EtcdCluster): Promise<void> {
  await Promise.all([1, 2, 3].map((id) => etcd.start(id)));
  await etcd.waitLeader();
}

async function etcdFailover(cluster: EtcdCluster, probe: EtcdFailoverProbe): Promise<number> {
  const leader = await cluster.waitLeader();
  await cluster.waitCaughtUp();
  await sleep(300);
  const survivors = [1, 2, 3].filter((id) => id !== leader).map((id) => cluster.member(id).client);
  const t0 = performance.now();
  await cluster.kill(leader);
  await probe.writeUntilCommitted(survivors);
  const ms = performance.now() - t0;
  await cluster.start(leader, 'existing');
  return ms;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cygnet-kv-bench-'));
  const uptimeBefore = uptime();
  const results: Results = { writes: new Map(), reads: new Map(), failover: { kv: [], etcd: [] }, notes: [] };
  let bin: string | undefined;
  if (opts.etcd) {
    ensureGoTools(log);
    const built = await buildEtcdLoad();
    if ('bin' in built) bin = built.bin;
    else {
      const note = `etcd over gRPC and kv via Go skipped: ${built.missing}`;
      log(note);
      results.notes.push(note);
    }
  }
  let kv = new KvProcessCluster(join(dir, 'kv'), await freePorts(6));
  let etcd = opts.etcd ? new EtcdCluster(join(dir, 'etcd'), await freePorts(6), ETCD_ARGS) : undefined;
  let probe: EtcdFailoverProbe | undefined;
  let keepDir = false;
  try {
    await Promise.all([1, 2, 3].map((id) => kv.start(id)));
    if (etcd !== undefined) await startEtcd(etcd);
    await Promise.all([1, 2, 3].map((id) => kv.waitServing(id)));
    await seedKv(kv);
    // Before anything is timed, both clusters take the same untimed writes. For its first ~10 s a
    // just-started kv member's p99 at 1 client is 2–4× its steady state (TurboFan compiling on the
    // same 2 cores, the heap growing to its working size, the first snapshots): the levels measure
    // clusters in service, as etcd's (compiled ahead of time) are from the start.
    if (START_WARMUP_MS > 0) {
      log(`warming up both clusters: ${START_WARMUP_MS} ms of 16-client writes each`);
      await kvLoad(kv, 16, 'put', START_WARMUP_MS);
      if (etcd !== undefined && bin !== undefined) {
        await runGoLoad(bin, { proto: 'etcd', endpoints: [etcd.member(await etcd.waitLeader()).client], op: 'put', clients: 16, durationMs: START_WARMUP_MS });
      }
    } else if (etcd !== undefined && bin !== undefined) {
      await runGoLoad(bin, { proto: 'etcd', endpoints: [etcd.member(await etcd.waitLeader()).client], op: 'get', clients: 16, durationMs: 1000 });
    }

    const ops: ('put' | 'get')[] = opts.reads ? ['put', 'get'] : ['put'];
    const lkv = kv; // const aliases: the fail-over phase below may swap in fresh clusters
    const letcd = etcd;
    for (const op of ops) {
      const table = op === 'put' ? results.writes : results.reads;
      for (const c of LEVELS) {
        const row: Partial<Record<Column, Level>> = {};
        table.set(c, row);
        const what = op === 'put' ? 'writes' : 'linearizable reads';
        const measure = async (col: Column, run: (durationMs: number) => Promise<Measured>): Promise<void> => {
          if (WARMUP_MS > 0) await run(WARMUP_MS);
          const l = load1();
          const pids = serverPids(col === 'kv' || col === 'kvGo' ? 'kv' : 'etcd');
          const before = cpuMs(pids);
          const m = await run(DURATION_MS);
          const after = cpuMs(pids);
          const cpu = after.userMs + after.sysMs - before.userMs - before.sysMs;
          row[col] = { ...m, load1: l, serverCpuUs: m.ops > 0 ? (cpu * 1000) / m.ops : NaN };
          log(`${COLUMN_NAMES[col]} ${what} c=${c}: ${fmt(row[col] as Level)}`);
        };
        await measure('kv', async (ms) => fromNode(await kvLoad(lkv, c, op, ms)));
        if (letcd !== undefined && bin !== undefined) {
          const b = bin;
          await measure('etcd', async (ms) => fromGo(await runGoLoad(b, { proto: 'etcd', endpoints: [letcd.member(await letcd.waitLeader()).client], op, clients: c, durationMs: ms })));
        }
        if (letcd !== undefined && op === 'put' && opts.gateway) {
          await measure('gateway', async (ms) => {
            const addr = letcd.member(await letcd.waitLeader()).client;
            const agent = new Agent({ connections: c, keepAliveTimeout: 30_000, pipelining: 1 });
            try {
              return fromNode(await runLoad(c, ms, (w, seq) => etcdPut(agent, addr, keyOf(w, seq), VALUE, 10_000)));
            } finally {
              await agent.close();
            }
          });
        }
        if (bin !== undefined && opts.goKv) {
          const b = bin;
          await measure('kvGo', async (ms) => fromGo(await runGoLoad(b, { proto: 'kv-http', endpoints: [lkv.member(await lkv.waitLeader()).http], op, clients: c, durationMs: ms })));
        }
      }
    }

    if (!opts.failoverOnLoaded && FAILOVERS > 0) {
      // Fresh clusters: every fail-over then starts from the same small log, whatever --duration-ms
      // loaded before. (--failover-on-loaded kills the loaded ones: that is how a WAL replay bug
      // after segment rotation + release showed up, fixed in 1f421a4.)
      await kv.stop();
      await etcd?.stop();
      kv = new KvProcessCluster(join(dir, 'kv-failover'), await freePorts(6));
      await Promise.all([1, 2, 3].map((id) => kv.start(id)));
      await Promise.all([1, 2, 3].map((id) => kv.waitServing(id)));
      if (etcd !== undefined) {
        etcd = new EtcdCluster(join(dir, 'etcd-failover'), await freePorts(6), ETCD_ARGS);
        await startEtcd(etcd);
      }
    }
    if (bin !== undefined) probe = new EtcdFailoverProbe(bin);
    let kvBroken = false;
    for (let i = 0; i < FAILOVERS; i++) {
      if (!kvBroken) {
        try {
          results.failover.kv.push(await kvFailover(kv, i));
          log(`kv failover ${i + 1}: ${(results.failover.kv[i] as number).toFixed(0)} ms (load ${load1().toFixed(1)})`);
        } catch (err) {
          // A member that cannot come back is a finding, not a reason to lose the run: keep its data for a post-mortem.
          kvBroken = true;
          keepDir = true;
          const note = `kv fail-over ${i + 1} of ${FAILOVERS}: ${(err as Error).message.slice(0, 600)} — kv fail-overs stopped; data kept in ${dir}`;
          log(note);
          results.notes.push(note);
        }
      }
      if (etcd !== undefined && probe !== undefined) {
        results.failover.etcd.push(await etcdFailover(etcd, probe));
        log(`etcd failover ${i + 1}: ${(results.failover.etcd[i] as number).toFixed(0)} ms`);
      }
    }
  } finally {
    await probe?.close();
    await kv.stop();
    await etcd?.stop();
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${report(results, uptimeBefore, uptime())}\n`);
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
  }
}

function fmt(l: Level): string {
  return `${l.perSecond.toFixed(0)}/s, p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(0)} ms, server CPU ${l.serverCpuUs.toFixed(0)} µs/op (${l.failed} failed, load ${l.load1.toFixed(1)})`;
}

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms1 = (n: number): string => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : n.toFixed(0)) : '—');

function summary(title: string, unit: string, rows: Map<number, Partial<Record<Column, Level>>>, extras: Column[]): string[] {
  const lines = [
    `| clients | kv ${unit}/s | etcd (gRPC) ${unit}/s | ratio | p99, kv / etcd | server CPU µs/op, kv / etcd | ${extras.map((e) => `${COLUMN_NAMES[e]} ${unit}/s`).join(' | ')}${extras.length > 0 ? ' | ' : ''}load |`,
    `|---:|---:|---:|---:|---|---|${extras.map(() => '---:|').join('')}---|`,
  ];
  for (const [c, r] of rows) {
    const kv = r.kv;
    const etcd = r.etcd;
    const ratio = kv !== undefined && etcd !== undefined ? `${(kv.perSecond / etcd.perSecond).toFixed(2)}×` : '—';
    const loads = (Object.values(r) as Level[]).map((l) => l.load1);
    lines.push(
      `| ${c} | ${int(kv?.perSecond ?? NaN)} | ${int(etcd?.perSecond ?? NaN)} | ${ratio} | ${ms1(kv?.p99Ms ?? NaN)} / ${ms1(etcd?.p99Ms ?? NaN)} ms | ${int(kv?.serverCpuUs ?? NaN)} / ${int(etcd?.serverCpuUs ?? NaN)} | ${extras.map((e) => int(r[e]?.perSecond ?? NaN)).join(' | ')}${extras.length > 0 ? ' | ' : ''}${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} |`,
    );
  }
  return [`**${title}**`, '', ...lines, ''];
}

function detail(results: Results): string[] {
  const lines = ['| op | clients | system | ops/s | p50 ms | p99 ms | max ms | server CPU µs/op | failed | load |', '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const [op, rows] of [['write', results.writes], ['linearizable read', results.reads]] as const) {
    for (const [c, r] of rows) {
      for (const col of ['kv', 'kvGo', 'etcd', 'gateway'] as const) {
        const l = r[col];
        if (l !== undefined) lines.push(`| ${op} | ${c} | ${COLUMN_NAMES[col]} | ${int(l.perSecond)} | ${l.p50Ms.toFixed(2)} | ${l.p99Ms.toFixed(2)} | ${l.maxMs.toFixed(1)} | ${int(l.serverCpuUs)} | ${l.failed} | ${l.load1.toFixed(1)} |`);
      }
    }
  }
  return [...lines, ''];
}

function report(results: Results, uptimeBefore: string, uptimeAfter: string): string {
  const extras = (want: Column[]): Column[] => want.filter((col) => [...results.writes.values(), ...results.reads.values()].some((r) => r[col] !== undefined));
  const lines: string[] = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z; ${DURATION_MS} ms per level after ${WARMUP_MS} ms unrecorded for each system${START_WARMUP_MS > 0 ? `, each cluster first warmed up by ${START_WARMUP_MS} ms of untimed 16-client writes` : ''}, 256-byte values, ${KEYS} keys, fsync on.`,
    `etcd flags beyond the defaults: ${ETCD_ARGS.length > 0 ? `\`${ETCD_ARGS.join(' ')}\`` : 'none'}.`,
    `uptime before: \`${uptimeBefore}\``,
    `uptime after: \`${uptimeAfter}\``,
    '',
    ...summary('Writes', 'writes', results.writes, extras(['kvGo', 'gateway'])),
  ];
  if (results.reads.size > 0) lines.push(...summary('Linearizable reads', 'reads', results.reads, extras(['kvGo'])));
  lines.push(...detail(results));
  lines.push('| system | leader SIGKILL → next committed write | runs | p50 ms | p99 ms | max ms |', '|---|---|---:|---:|---:|---:|');
  for (const [name, xs] of [['cygnet examples/kv', results.failover.kv], ['etcd 3.4 (clientv3, gRPC)', results.failover.etcd]] as const) {
    if (xs.length === 0) continue;
    const s = [...xs].sort((a, b) => a - b);
    lines.push(`| ${name} | | ${s.length} | ${percentile(s, 0.5).toFixed(0)} | ${percentile(s, 0.99).toFixed(0)} | ${(s[s.length - 1] as number).toFixed(0)} |`);
  }
  for (const n of results.notes) lines.push('', n);
  return lines.join('\n');
}

await main();
