/**
 * Placement and deployment-planner benchmark: the time of one
 * computePlacement round and of one computeDeploymentStep call at the sizes
 * the benchmarks reach (a 1,000-instance app; 1,000 apps of 10).
 * Prints a markdown table: median and p99 over RUNS runs after WARMUP runs.
 *
 *   npm run bench:placement        (BENCH_QUICK=1 for a smoke run)
 */
import { cpus, loadavg } from 'node:os';
import { SeededRandom } from '../src/common/random.ts';
import { parseAttributes, parseResources } from '../src/common/resource-parse.ts';
import { computeDeploymentStep, type PlannerInput } from '../src/framework/deploy/index.ts';
import { computePlacement, type ConstraintTriple, type InstanceRequest, type PlacementInput } from '../src/framework/placement/index.ts';
import type { Offer } from '../src/protocol/mesos-types.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 21;
const WARMUP = QUICK ? 1 : 3;

function offers(agents: number, resources: string): Offer[] {
  const rs = parseResources(resources);
  return Array.from({ length: agents }, (_, k) => ({
    id: { value: `o${k}` },
    framework_id: { value: 'fw' },
    agent_id: { value: `a${k}` },
    hostname: `a${k}.host`,
    resources: rs,
    attributes: parseAttributes(`rack:r${k % 3}`),
  }));
}

function requests(apps: number, perApp: number, constraints: ConstraintTriple[]): InstanceRequest[] {
  const out: InstanceRequest[] = [];
  for (let a = 0; a < apps; a++) {
    for (let i = 0; i < perApp; i++) {
      out.push({ appId: `/app${a}`, instanceId: `/app${a}.${i}`, cpus: 0.01, memMb: 8, diskMb: 0, portCount: 1, constraints, role: '*', acceptedResourceRoles: [], instances: perApp });
    }
  }
  return out;
}

function measure(fn: () => void): { median: number; p99: number } {
  for (let k = 0; k < WARMUP; k++) fn();
  const times: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], p99: times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)] };
}

const big = 'cpus:1000;mem:1000000;disk:1000000;ports:[31000-32999]';
const placementCases: { name: string; input: () => PlacementInput }[] = [
  { name: '1 app × 1,000 instances, 3 agents (big deploy)', input: () => ({ offers: offers(3, big), requests: requests(1, 1000, []), placed: [], nowMs: 0, random: new SeededRandom(1) }) },
  { name: '1 app × 1,000 instances, 100 agents, rack GROUP_BY 3', input: () => ({ offers: offers(100, big), requests: requests(1, 1000, [['rack', 'GROUP_BY', '3']]), placed: [], nowMs: 0, random: new SeededRandom(1) }) },
  { name: '1 app × 1,000 instances, 1,000 agents, hostname UNIQUE', input: () => ({ offers: offers(1000, big), requests: requests(1, 1000, [['hostname', 'UNIQUE']]), placed: [], nowMs: 0, random: new SeededRandom(1) }) },
  { name: '1,000 apps × 10 instances, 100 agents, hostname MAX_PER 2', input: () => ({ offers: offers(100, big), requests: requests(1000, 10, [['hostname', 'MAX_PER', '2']]), placed: [], nowMs: 0, random: new SeededRandom(1) }) },
  { name: '1 app × 1,000 instances nothing fits, 100 agents (reasons)', input: () => ({ offers: offers(100, 'cpus:0.001;mem:1'), requests: requests(1, 1000, []), placed: [], nowMs: 0, random: new SeededRandom(1) }) },
];

function rollingInput(n: number): PlannerInput {
  const instances = Array.from({ length: n }, (_, k) => ({ instanceId: `old${k}`, version: 'v1', status: 'healthy' as const, startedAtMs: k }));
  for (let k = 0; k < n / 2; k++) instances.push({ instanceId: `new${k}`, version: 'v2', status: (k % 2 === 0 ? 'healthy' : 'staging') as 'healthy', startedAtMs: n + k });
  return { targets: [{ version: 'v2', count: n }], instances, strategy: { minimumHealthCapacity: 0.8, maximumOverCapacity: 0.5 }, healthCounts: 'healthy', killSelection: 'YOUNGEST_FIRST' };
}

console.log(`placement / planner benchmark — ${RUNS} runs after ${WARMUP} warm-up; node ${process.version}; ${cpus().length} cpus; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('');
console.log('| case | launches | median ms | p99 ms |');
console.log('|---|---:|---:|---:|');
for (const c of placementCases) {
  const input = c.input();
  const launched = computePlacement(input).launches.length;
  const m = measure(() => computePlacement(c.input()));
  console.log(`| placement: ${c.name} | ${launched} | ${m.median.toFixed(2)} | ${m.p99.toFixed(2)} |`);
}
for (const n of [1000, 10000]) {
  const input = rollingInput(n);
  const step = computeDeploymentStep(input);
  const m = measure(() => computeDeploymentStep(input));
  console.log(`| planner: rolling step, ${n} old + ${n / 2} new | ${step.launch.reduce((s, l) => s + l.count, 0)} (+${step.kill.length} kills) | ${m.median.toFixed(2)} | ${m.p99.toFixed(2)} |`);
}
