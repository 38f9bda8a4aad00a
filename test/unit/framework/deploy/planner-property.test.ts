/**
 * Properties of the deployment planner over random strategies, counts,
 * versions, kill selections and health flips, against invariants written
 * here independently of the planner:
 *   - a step never kills an instance twice, nor one that is not live;
 *   - planning again right after applying a step asks for nothing (idempotent);
 *   - the kills of a step never take the ready count below
 *     min(ready before, ⌈T × minimumHealthCapacity⌉);
 *   - a step never launches past ⌊T × (1 + maximumOverCapacity)⌋ live
 *     (+1 when that equals the minimum, Marathon's exception);
 *   - once the world stops misbehaving, the deployment converges to exactly
 *     the target counts, all ready, nothing else, within a bounded number of steps.
 * A failure names the seed that replays it.
 */
import { expect } from 'chai';
import { SeededRandom, randomInt, type Random } from '../../../../src/common/random.ts';
import type { InstanceStatus, PlannerStep } from '../../../../src/framework/deploy/index.ts';
import { DeploySim } from './sim.ts';

const RUNS = 300;
const SAFETY_STEPS = 40;

function pick<T>(rng: Random, xs: readonly T[]): T {
  return xs[randomInt(rng, 0, xs.length)];
}

function refMin(total: number, mhc: number): number {
  return Math.ceil(total * mhc - 1e-9);
}

function refMax(total: number, mhc: number, over: number): number {
  const max = Math.floor(total * (1 + over) + 1e-9);
  return total > 0 && refMin(total, mhc) === max ? max + 1 : max;
}

function randomWorld(rng: Random): DeploySim {
  const sim = new DeploySim();
  sim.strategy = {
    minimumHealthCapacity: pick(rng, [0, 0.25, 0.5, 0.6, 0.75, 1, Math.round(rng.next() * 100) / 100]),
    maximumOverCapacity: pick(rng, [0, 0.1, 0.2, 0.5, 1, Math.round(rng.next() * 100) / 100]),
  };
  sim.healthCounts = pick(rng, ['healthy', 'running'] as const);
  sim.killSelection = pick(rng, ['YOUNGEST_FIRST', 'OLDEST_FIRST'] as const);
  const versions = ['v1', 'v2', 'v3'];
  const statuses: InstanceStatus[] = ['scheduled', 'staging', 'running', 'healthy', 'healthy', 'healthy', 'unhealthy', 'killing'];
  const n = randomInt(rng, 0, 9);
  for (let k = 0; k < n; k++) {
    sim.nowMs += randomInt(rng, 0, 3);
    sim.add(pick(rng, versions), pick(rng, statuses));
  }
  const targetVersions = versions.filter(() => rng.next() < 0.5);
  if (targetVersions.length === 0) targetVersions.push(pick(rng, versions));
  sim.targets = targetVersions.map((version) => ({ version, count: randomInt(rng, 0, 7) }));
  return sim;
}

/** The cluster misbehaving: instances progress, die, flip health; kills complete. */
function perturb(sim: DeploySim, rng: Random): void {
  sim.nowMs += 100;
  for (const i of [...sim.instances.values()]) {
    const roll = rng.next();
    switch (i.status) {
      case 'scheduled':
        if (roll < 0.5) i.status = 'staging';
        break;
      case 'staging':
        if (roll < 0.5) {
          i.status = 'running';
          i.startedAtMs = sim.nowMs;
        } else if (roll < 0.55) sim.instances.delete(i.instanceId);
        break;
      case 'running':
        if (sim.healthCounts === 'healthy' && roll < 0.5) i.status = roll < 0.4 ? 'healthy' : 'unhealthy';
        break;
      case 'healthy':
        if (roll < 0.05) i.status = 'unhealthy';
        else if (roll < 0.07) sim.instances.delete(i.instanceId);
        break;
      case 'unhealthy':
        if (roll < 0.3) i.status = 'healthy';
        else if (roll < 0.4) sim.instances.delete(i.instanceId);
        break;
      case 'killing':
        if (roll < 0.6) sim.instances.delete(i.instanceId);
        break;
    }
  }
}

function checkStep(sim: DeploySim, step: PlannerStep, where: string): void {
  const total = sim.targets.reduce((s, t) => s + t.count, 0);
  const { minimumHealthCapacity: mhc, maximumOverCapacity: over } = sim.strategy;
  const killed = new Set<string>();
  let readyKilled = 0;
  for (const id of step.kill) {
    const i = sim.instances.get(id);
    expect(i, `${where}: kill of unknown ${id}`).to.not.equal(undefined);
    expect(i!.status, `${where}: kill of ${id} already killing`).to.not.equal('killing');
    expect(killed.has(id), `${where}: ${id} killed twice in one step`).to.equal(false);
    killed.add(id);
    if (i!.status === 'healthy' || (sim.healthCounts === 'running' && i!.status === 'running')) readyKilled++;
  }
  const ready = sim.readyCount();
  expect(ready - readyKilled, `${where}: kills take ready ${ready} below the minimum`).to.be.at.least(Math.min(ready, refMin(total, mhc)));
  const launched = step.launch.reduce((s, l) => s + l.count, 0);
  for (const l of step.launch) expect(l.count, `${where}: empty launch`).to.be.greaterThan(0);
  if (launched > 0) {
    // The +1 exception applies only with enough ready; the loose bound here is max+1 in that case, exact otherwise.
    expect(sim.liveCount() + launched, `${where}: launch past the maximum`).to.be.at.most(refMax(total, mhc, over));
  }
}

describe('deployment planner properties (seeded; a failure prints its seed)', () => {
  it(`holds its invariants and converges over ${RUNS} random deployments`, () => {
    for (let seed = 1; seed <= RUNS; seed++) {
      const rng = new SeededRandom(seed);
      const sim = randomWorld(rng);
      const where = (phase: string, k: number): string => `seed ${seed} ${phase} step ${k} (${JSON.stringify(sim.strategy)}, targets ${JSON.stringify(sim.targets)}, ${sim.describe().join(' / ')})`;
      for (let k = 0; k < SAFETY_STEPS; k++) {
        const step = sim.plan();
        checkStep(sim, step, where('safety', k));
        sim.apply(step);
        const again = sim.plan();
        expect(again.kill, `${where('idempotence', k)}`).to.deep.equal([]);
        expect(again.launch, `${where('idempotence', k)}`).to.deep.equal([]);
        if (rng.next() < 0.2) sim.targets = sim.targets.map((t) => ({ ...t, count: Math.max(0, t.count + randomInt(rng, -2, 3)) }));
        perturb(sim, rng);
      }
      const total = sim.targets.reduce((s, t) => s + t.count, 0);
      const bound = 4 * (total + sim.liveCount()) + 10;
      let done = false;
      for (let k = 0; k < bound && !done; k++) {
        const step = sim.plan();
        checkStep(sim, step, where('liveness', k));
        done = step.done;
        sim.apply(step);
        sim.settle({ replaceUnhealthy: true });
      }
      expect(done, `${where('liveness', bound)}: not done`).to.equal(true);
      for (const t of sim.targets) {
        const of = [...sim.instances.values()].filter((i) => i.version === t.version);
        expect(of.length, `seed ${seed}: ${t.version}`).to.equal(t.count);
      }
      expect(sim.liveCount(), `seed ${seed}: live`).to.equal(total);
    }
  });
});
