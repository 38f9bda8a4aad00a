/**
 * Property: on random clusters, AllocatorCore makes exactly the offers a
 * deliberately simple reference DRF (reference-drf.ts) makes, cycle after
 * cycle, while frameworks randomly decline, partly accept, keep offers and
 * finish tasks; and both report the same dominant shares. A failure prints the
 * seed that replays it.
 */
import { expect } from 'chai';
import { SeededRandom, randomInt, type Random } from '../../../src/common/random.ts';
import { allocateTo, resourcesToString, stripAllocation, subtract } from '../../../src/common/resources.ts';
import { parseResources } from '../../../src/common/resource-parse.ts';
import { AllocatorCore } from '../../../src/master/allocator/index.ts';
import type { Resource } from '../../../src/protocol/resource-types.ts';
import { ReferenceDrf } from './reference-drf.ts';

/** Seeds tried; each runs CYCLES cycles on a cluster of up to 12 agents and 6 frameworks. */
const SEEDS = 150;
const CYCLES = 8;
const ROLES = ['r0', 'r1', 'r2'];

interface Task {
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resource[];
}

function buildCluster(rng: Random): { core: AllocatorCore; ref: ReferenceDrf; coreRandom: Random; refRandom: Random } {
  const shuffleSeed = randomInt(rng, 1, 1_000_000);
  const weights: Record<string, number> = {};
  for (const r of ROLES) weights[r] = randomInt(rng, 1, 4);
  const core = new AllocatorCore({ random: new SeededRandom(shuffleSeed), roleWeights: weights });
  const ref = new ReferenceDrf();
  ref.weights = weights;
  const agents = randomInt(rng, 1, 13);
  for (let i = 0; i < agents; i++) {
    let text = `cpus:${randomInt(rng, 1, 9)};mem:${256 * randomInt(rng, 1, 17)};disk:${100 * randomInt(rng, 0, 5)}`;
    if (rng.next() < 0.3) {
      const role = ROLES[randomInt(rng, 0, ROLES.length)];
      text += `;cpus(${role}):${randomInt(rng, 1, 4)};mem(${role}):${128 * randomInt(rng, 1, 9)}`;
    }
    const total = parseResources(text);
    core.addAgent({ id: `a${i}`, hostname: `h${i}`, total });
    ref.agents.push({ id: `a${i}`, total, free: total });
  }
  const frameworks = randomInt(rng, 1, 7);
  for (let i = 0; i < frameworks; i++) {
    const role = ROLES[randomInt(rng, 0, ROLES.length)];
    core.addFramework({ id: `f${i}`, roles: [role] });
    ref.frameworks.push({ id: `f${i}`, role });
  }
  return { core, ref, coreRandom: new SeededRandom(0), refRandom: new SeededRandom(shuffleSeed) };
}

/** The first cpus entry of an offer, as a 1-cpu task, when it has at least 1. */
function oneCpuTask(rs: Resource[]): Resource[] | undefined {
  const cpus = rs.find((r) => r.name === 'cpus' && (r.scalar?.value ?? 0) >= 1);
  if (cpus === undefined) return undefined;
  return [{ ...cpus, scalar: { value: 1 } }];
}

/** Order-independent text of a resource list. */
function canonical(rs: Resource[]): string {
  return resourcesToString(rs).split('; ').sort().join('; ');
}

function runSeed(seed: number): number {
  let offers = 0;
  const rng = new SeededRandom(seed);
  const { core, ref, refRandom } = buildCluster(rng);
  const outstanding = new Set<string>();
  const tasks: Task[] = [];
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const plan = core.allocate(cycle * 1000);
    const refOffers = ref.allocate(refRandom, outstanding);
    const got = plan.offers.map((o) => `${o.frameworkId}(${o.role}) on ${o.agentId}: ${canonical(stripAllocation(o.resources))}`);
    const want = refOffers.map((o) => `${o.frameworkId}(${o.role}) on ${o.agentId}: ${canonical(o.resources)}`);
    expect(got, `seed ${seed} cycle ${cycle}`).to.deep.equal(want);
    offers += got.length;

    for (const o of plan.offers) {
      const plain = stripAllocation(o.resources);
      const action = rng.next();
      if (action < 0.4) {
        core.recoverResources(o.frameworkId, o.agentId, o.resources);
        ref.recover(o.frameworkId, o.agentId, plain, outstanding);
      } else if (action < 0.8) {
        const used = oneCpuTask(plain) ?? [];
        const unused = subtract(plain, used);
        core.recoverResources(o.frameworkId, o.agentId, allocateTo(unused, o.role));
        ref.recover(o.frameworkId, o.agentId, unused, outstanding);
        if (used.length > 0) tasks.push({ frameworkId: o.frameworkId, agentId: o.agentId, role: o.role, resources: used });
      } // else: keep the offer outstanding
    }
    // Some tasks finish.
    for (let i = tasks.length - 1; i >= 0; i--) {
      if (rng.next() < 0.3) {
        const t = tasks[i];
        tasks.splice(i, 1);
        const out = core.recoverResources(t.frameworkId, t.agentId, allocateTo(t.resources, t.role));
        expect(out.ignored, `seed ${seed}`).to.deep.equal([]);
        ref.recover(t.frameworkId, t.agentId, t.resources, outstanding);
      }
    }
    for (const fw of ref.frameworks) {
      expect(core.frameworkShare(fw.id, fw.role), `seed ${seed} share of ${fw.id}`).to.be.closeTo(ref.frameworkShare(fw.id, fw.role), 1e-9);
    }
    for (const a of ref.agents) {
      expect(canonical(core.agentFree(a.id) ?? []), `seed ${seed} free on ${a.id}`).to.equal(canonical(a.free));
    }
  }
  return offers;
}

describe('allocator property: same offers as a simple reference DRF', () => {
  it(`${SEEDS} random clusters x ${CYCLES} cycles`, () => {
    let offers = 0;
    for (let seed = 1; seed <= SEEDS; seed++) offers += runSeed(seed);
    // The comparison is not vacuous: on average several offers per cluster.
    expect(offers).to.be.greaterThan(SEEDS * 5);
  });
});
