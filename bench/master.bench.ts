/**
 * Master benchmark: one whole offer cycle through MasterCore — the DRF
 * allocator's plan, offer records, Offer messages and one OFFERS event per
 * framework — and then the cycle's events encoded as the shell writes them
 * (RecordIO records from the trusted encoder, src/protocol/trusted-encoder.ts),
 * for {1k, 10k} agents x {10, 100, 1000} frameworks, every agent entirely
 * free (each cycle offers every agent). Between measured cycles every offer
 * is declined with refuse_seconds 0 (outside the timed region), so each
 * cycle does the same work.
 *
 * "Whole cycle" = allocation + offers + events + encoded records ready to
 * write, all subscribers JSON (the bigger body) — the goal is <= 100 ms median
 * at 10k agents x 1,000 frameworks — and the same with every subscriber on
 * protobuf. Also timed, outside the whole cycle: the validating codec's JSON
 * encoding of the same events (what the shell did before), for comparison;
 * and the GC pause time that fell inside the timed allocation cycles. Wall
 * times on a shared machine are mostly queueing for a CPU; the CPU column
 * (process.cpuUsage over the whole JSON cycle) is the better estimate of its
 * own cost.
 *
 * Then, in a fresh child process: the master's RSS and heap with 10k agents
 * registered, 100 frameworks subscribed and one cycle's offers outstanding
 * (goal <= 300 MB RSS).
 *
 *   npm run bench:master            (BENCH_QUICK=1 for a smoke run)
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import { SeededRandom } from '../src/common/random.ts';
import { AllocatorAdapter } from '../src/master/allocator-adapter.ts';
import type { Effect } from '../src/master/effects.ts';
import { MasterCore } from '../src/master/master-core.ts';
import type { Resource } from '../src/master/wire.ts';
import { encodeBodyBytes } from '../src/protocol/codec.ts';
import type { MediaType } from '../src/protocol/media.ts';
import { encodeRecord } from '../src/protocol/recordio.ts';
import { encodeTrustedRecord } from '../src/protocol/trusted-encoder.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const QUICK = process.env.BENCH_QUICK === '1';
/** Cycles measured per cell, after WARMUP unmeasured ones. */
const CYCLES = QUICK ? 5 : 15;
const WARMUP = QUICK ? 1 : 3;
const AGENT_COUNTS = [1_000, 10_000];
const FRAMEWORK_COUNTS = [10, 100, 1_000];
/** Agents and frameworks of the RSS measurement. */
const RSS_AGENTS = 10_000;
const RSS_FRAMEWORKS = 100;
const RSS_GOAL_MB = 300;

const AGENT_RESOURCES: Resource[] = [
  { name: 'cpus', type: 'SCALAR', scalar: { value: 16 } },
  { name: 'mem', type: 'SCALAR', scalar: { value: 65536 } },
  { name: 'disk', type: 'SCALAR', scalar: { value: 500000 } },
  { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] } },
];

interface Bench {
  readonly core: MasterCore;
  readonly alloc: TimedAllocator;
  readonly streams: Map<string, string>;
  now: number;
}

/** The real adapter, timing its allocate() so the offer-building part can be told apart. */
class TimedAllocator extends AllocatorAdapter {
  lastAllocateMs = 0;
  override allocate(nowMs: number): ReturnType<AllocatorAdapter['allocate']> {
    const t = performance.now();
    const plan = super.allocate(nowMs);
    this.lastAllocateMs = performance.now() - t;
    return plan;
  }
}

function build(agents: number, frameworks: number): Bench & { addAgentsMs: number } {
  const alloc = new TimedAllocator({ random: new SeededRandom(1) });
  const core = new MasterCore({
    config: {
      masterInfo: { ip: 0x7f000001, port: 5050, hostname: 'bench' },
      heartbeatIntervalSec: 15,
      agentHeartbeatIntervalSec: 5,
      agentPingTimeoutMs: 1e12,
      offerTimeoutMs: undefined,
      defaultRefuseSeconds: 5,
    },
    allocator: alloc,
    nowMs: 0,
    random: new SeededRandom(2),
    log: pino({ level: 'silent' }),
  });
  const streams = new Map<string, string>();
  for (let i = 0; i < frameworks; i++) {
    const stream = `fw-stream-${i}`;
    const id = core.subscribeFramework({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'bench', name: `fw${i}` } } }, stream, 0);
    streams.set(id, stream);
    core.drain();
  }
  const t0 = performance.now();
  for (let i = 0; i < agents; i++) {
    const call = { type: 'SUBSCRIBE' as const, subscribe: { agent_info: { hostname: `agent${i}.bench`, port: 5051, resources: AGENT_RESOURCES } } };
    core.subscribeAgent(call, `agent-stream-${i}`, `10.0.${(i >> 8) & 255}.${i & 255}`, 0);
    core.drain();
  }
  return { core, alloc, streams, now: 0, addAgentsMs: performance.now() - t0 };
}

/** Declines every offer in `effects` with refuse_seconds 0, so the next cycle offers the same. */
function declineAll(b: Bench, effects: readonly Effect[]): void {
  for (const e of effects) {
    if (e.kind !== 'framework-event' || e.event.type !== 'OFFERS') continue;
    const offerIds = (e.event.offers?.offers ?? []).map((o) => o.id);
    const call = { type: 'DECLINE' as const, framework_id: { value: e.frameworkId }, decline: { offer_ids: offerIds, filters: { refuse_seconds: 0 } } };
    b.core.schedulerCall(call, b.streams.get(e.frameworkId), b.now);
  }
  b.core.drain();
}

/** The records the shell writes for the cycle's events (EventStream.send): the trusted encoder. */
function encodeAll(effects: readonly Effect[], media: MediaType): number {
  let bytes = 0;
  for (const e of effects) if (e.kind === 'framework-event') bytes += encodeTrustedRecord('mesos.v1.scheduler.Event', media, e.event).byteLength;
  return bytes;
}

/** The same through the validating codec, as the shell encoded before the trusted encoder. */
function encodeAllValidating(effects: readonly Effect[]): number {
  let bytes = 0;
  for (const e of effects) if (e.kind === 'framework-event') bytes += encodeRecord(encodeBodyBytes('mesos.v1.scheduler.Event', 'application/json', e.event)).byteLength;
  return bytes;
}

interface CellResult {
  agents: number;
  frameworks: number;
  offers: number;
  addAgentsMs: number;
  cycle: number[];
  /** user+system CPU of the whole process over the cycle (includes V8's GC threads). */
  cpu: number[];
  allocator: number[];
  /** Trusted JSON records of the cycle's events. */
  encode: number[];
  encodeProto: number[];
  encodeValidating: number[];
  /** allocate + drain + trusted JSON records, wall and CPU. */
  whole: number[];
  wholeCpu: number[];
  /** allocate + drain + trusted protobuf records. */
  wholeProto: number[];
  gcMs: number;
  encodedBytes: number;
  encodedProtoBytes: number;
}

async function runCell(agents: number, frameworks: number): Promise<CellResult> {
  gc();
  const b = build(agents, frameworks);
  const res: CellResult = {
    agents,
    frameworks,
    offers: 0,
    addAgentsMs: b.addAgentsMs,
    cycle: [],
    cpu: [],
    allocator: [],
    encode: [],
    encodeProto: [],
    encodeValidating: [],
    whole: [],
    wholeCpu: [],
    wholeProto: [],
    gcMs: 0,
    encodedBytes: 0,
    encodedProtoBytes: 0,
  };
  // GC entries are delivered asynchronously: collect them, and match them to the timed windows afterwards.
  const gcs: { start: number; duration: number }[] = [];
  const windows: [number, number][] = [];
  const obs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push({ start: entry.startTime, duration: entry.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  for (let c = 0; c < WARMUP + CYCLES; c++) {
    b.now += 1000;
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    const offers = b.core.allocate(b.now);
    const end = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const effects = b.core.drain();
    const te = performance.now();
    const bytes = encodeAll(effects, 'application/json');
    const tw = performance.now();
    const wholeCpu = process.cpuUsage(cpu0);
    const tp = performance.now();
    const protoBytes = encodeAll(effects, 'application/x-protobuf');
    const encodeProtoMs = performance.now() - tp;
    const tv = performance.now();
    encodeAllValidating(effects);
    const encodeValidatingMs = performance.now() - tv;
    if (c >= WARMUP) {
      windows.push([t, end]);
      res.cycle.push(end - t);
      res.cpu.push((cpu.user + cpu.system) / 1000);
      res.allocator.push(b.alloc.lastAllocateMs);
      res.encode.push(tw - te);
      res.encodeProto.push(encodeProtoMs);
      res.encodeValidating.push(encodeValidatingMs);
      res.whole.push(tw - t);
      res.wholeCpu.push((wholeCpu.user + wholeCpu.system) / 1000);
      res.wholeProto.push(te - t + encodeProtoMs);
      res.offers = offers;
      res.encodedBytes = bytes;
      res.encodedProtoBytes = protoBytes;
    }
    declineAll(b, effects);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  obs.disconnect();
  let gcMs = 0;
  for (const g of gcs) if (windows.some(([a, z]) => g.start >= a && g.start < z)) gcMs += g.duration;
  res.gcMs = gcMs / CYCLES;
  return res;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)];
}

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(0);
}

/** Child mode: RSS with RSS_AGENTS agents registered and one cycle's offers outstanding. */
function measureRss(): void {
  gc();
  const before = process.memoryUsage();
  const b = build(RSS_AGENTS, RSS_FRAMEWORKS);
  const offers = b.core.allocate(1000);
  b.core.drain();
  gc();
  const after = process.memoryUsage();
  console.log(
    JSON.stringify({ agents: RSS_AGENTS, frameworks: RSS_FRAMEWORKS, offers, rssBeforeMb: mb(before.rss), rssMb: mb(after.rss), heapMb: mb(after.heapUsed), agentsKept: b.core.ctx.agents.size }),
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--rss')) {
    measureRss();
    return;
  }
  console.log(`# master offer cycle (node ${process.version}, ${cpus().length} cpus, load ${loadavg()[0].toFixed(2)}; ${CYCLES} cycles after ${WARMUP} warm-up)`);
  console.log('');
  console.log('Whole cycle = allocation + offers + OFFERS events + encoded RecordIO records ready to write (trusted encoder). Medians unless marked p99.');
  console.log('');
  console.log(
    '| agents | frameworks | offers/cycle | **whole cycle, JSON ms** | whole JSON p99 ms | whole JSON CPU ms | whole cycle, protobuf ms | allocator ms | offers+events ms | GC ms/cycle | encode JSON ms (MiB) | encode protobuf ms (MiB) | validating codec JSON ms | register agents ms |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const mib = (n: number): string => (n / 1048576).toFixed(1);
  for (const agents of AGENT_COUNTS) {
    for (const frameworks of FRAMEWORK_COUNTS) {
      const r = await runCell(agents, frameworks);
      const building = r.cycle.map((c, i) => c - r.allocator[i]);
      const cells = [
        agents,
        frameworks,
        r.offers,
        `**${median(r.whole).toFixed(1)}**`,
        p99(r.whole).toFixed(1),
        median(r.wholeCpu).toFixed(1),
        median(r.wholeProto).toFixed(1),
        median(r.allocator).toFixed(1),
        median(building).toFixed(1),
        r.gcMs.toFixed(1),
        `${median(r.encode).toFixed(1)} (${mib(r.encodedBytes)})`,
        `${median(r.encodeProto).toFixed(1)} (${mib(r.encodedProtoBytes)})`,
        median(r.encodeValidating).toFixed(1),
        r.addAgentsMs.toFixed(0),
      ];
      console.log(`| ${cells.join(' | ')} |`);
    }
  }
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--rss'], { encoding: 'utf8' });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || line === '') {
    console.log(`RSS measurement failed: ${child.stderr.slice(0, 500)}`);
    process.exitCode = 1;
    return;
  }
  const rss = JSON.parse(line) as { agents: number; frameworks: number; offers: number; rssBeforeMb: string; rssMb: string; heapMb: string };
  console.log('');
  console.log(
    `master RSS with ${rss.agents} agents registered, ${rss.frameworks} frameworks, ${rss.offers} offers outstanding (after GC): ${rss.rssMb} MiB (heap ${rss.heapMb} MiB; ${rss.rssBeforeMb} MiB before registering; goal <= ${RSS_GOAL_MB} MB)`,
  );
}

await main();
