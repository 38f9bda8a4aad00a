/**
 * DRF fairness over many cycles: frameworks launch one task per offer (when it
 * fits) and decline the rest without a filter, as a greedy framework would.
 * The allocator then performs progressive filling: the lowest (weighted)
 * dominant share is served next, so shares converge to equal (or
 * weight-proportional) within one task's share.
 */
import { expect } from 'chai';
import { SeededRandom } from '../../../src/common/random.ts';
import { contains, allocateTo, stripAllocation, subtract } from '../../../src/common/resources.ts';
import { parseResources } from '../../../src/common/resource-parse.ts';
import { AllocatorCore } from '../../../src/master/allocator/index.ts';
import type { Resource } from '../../../src/protocol/resource-types.ts';

/** Cycles after which a converging simulation must have stopped launching. */
const MAX_CYCLES = 500;

/** Runs cycles until nobody launches anything; returns tasks launched per framework. */
function simulate(core: AllocatorCore, taskByFramework: Record<string, Resource[]>): Record<string, number> {
  const launched: Record<string, number> = {};
  for (const id of Object.keys(taskByFramework)) launched[id] = 0;
  for (let cycle = 0; cycle < MAX_CYCLES; cycle++) {
    const plan = core.allocate(cycle * 1000);
    let any = false;
    for (const o of plan.offers) {
      const task = taskByFramework[o.frameworkId];
      const plain = stripAllocation(o.resources);
      let unused = plain;
      if (contains(plain, task)) {
        unused = subtract(plain, task);
        launched[o.frameworkId]++;
        any = true;
      }
      core.recoverResources(o.frameworkId, o.agentId, allocateTo(unused, o.role), { nowMs: cycle * 1000, refuseSeconds: 0 });
    }
    if (!any) return launched;
  }
  throw new Error(`no convergence in ${MAX_CYCLES} cycles`);
}

function cluster(agents: number, resources: string, weights: Record<string, number> = {}): AllocatorCore {
  const core = new AllocatorCore({ random: new SeededRandom(42), roleWeights: weights });
  for (let i = 0; i < agents; i++) core.addAgent({ id: `a${i}`, hostname: `h${i}`, total: parseResources(resources) });
  return core;
}

describe('DRF fairness over many cycles', () => {
  it('gives the DRF paper answer on one agent: A<1cpu,4GB> x3, B<3cpu,1GB> x2', () => {
    const core = cluster(1, 'cpus:9;mem:18432');
    core.addFramework({ id: 'A', roles: ['r'] });
    core.addFramework({ id: 'B', roles: ['r'] });
    const launched = simulate(core, { A: parseResources('cpus:1;mem:4096'), B: parseResources('cpus:3;mem:1024') });
    expect(launched).to.deep.equal({ A: 3, B: 2 });
    expect(core.frameworkShare('A', 'r')).to.be.closeTo(2 / 3, 1e-9);
    expect(core.frameworkShare('B', 'r')).to.be.closeTo(2 / 3, 1e-9);
  });

  it('converges to equal dominant shares on many agents with different demands', () => {
    const core = cluster(20, 'cpus:8;mem:16384');
    core.addFramework({ id: 'A', roles: ['r'] });
    core.addFramework({ id: 'B', roles: ['r'] });
    const launched = simulate(core, { A: parseResources('cpus:1;mem:4096'), B: parseResources('cpus:3;mem:1024') });
    const a = core.frameworkShare('A', 'r');
    const b = core.frameworkShare('B', 'r');
    // One task is worth at most 4096/327680 (A) or 3/160 (B) of dominant share.
    const oneTask = Math.max(4096 / (20 * 16384), 3 / (20 * 8));
    expect(Math.abs(a - b), `A=${a} (${launched.A} tasks) B=${b} (${launched.B} tasks)`).to.be.at.most(oneTask + 1e-9);
    expect(launched.A + launched.B).to.be.greaterThan(40);
  });

  it('gives weight-proportional shares to weighted roles', () => {
    const core = cluster(16, 'cpus:4;mem:4096', { gold: 3 });
    core.addFramework({ id: 'G', roles: ['gold'] });
    core.addFramework({ id: 'S', roles: ['silver'] });
    const task = parseResources('cpus:1;mem:1024');
    const launched = simulate(core, { G: task, S: task });
    expect(launched.G + launched.S).to.equal(64);
    expect(launched).to.deep.equal({ G: 48, S: 16 });
    expect(core.frameworkShare('G', 'gold') / 3).to.be.closeTo(core.frameworkShare('S', 'silver'), 1e-9);
  });

  it('shares a role fairly among its frameworks while roles share by weight', () => {
    const core = cluster(12, 'cpus:4;mem:4096', { big: 2 });
    core.addFramework({ id: 'B1', roles: ['big'] });
    core.addFramework({ id: 'B2', roles: ['big'] });
    core.addFramework({ id: 'S1', roles: ['small'] });
    const task = parseResources('cpus:1;mem:1024');
    const launched = simulate(core, { B1: task, B2: task, S1: task });
    // 48 slots: big gets 2/3 (32) split evenly between B1 and B2, small 1/3 (16).
    expect(launched).to.deep.equal({ B1: 16, B2: 16, S1: 16 });
  });
});
