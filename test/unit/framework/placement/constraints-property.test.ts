/**
 * UNIQUE and MAX_PER (on hostname and on an attribute) against a deliberately
 * simple reference: the reference replays the requests in order, keeping
 * every placed instance in a plain list and every offer's cpus/mem in plain
 * numbers, and counts by scanning. For each request it computes the offers
 * that fit; the placement must have chosen one of them, on an agent with the
 * fewest instances of the app among them (the default spread), or none when
 * none fits. Two apps are interleaved so one app's instances never count
 * against the other's constraints. A failure prints its seed.
 */
import { expect } from 'chai';
import { SeededRandom, randomInt, type Random } from '../../../../src/common/random.ts';
import { computePlacement, type ConstraintTriple, type InstanceRequest, type PlacedInstance } from '../../../../src/framework/placement/index.ts';
import type { Offer } from '../../../../src/protocol/mesos-types.ts';
import { makeOffer, makeRequest, placedOn } from './helpers.ts';

const RUNS = 400;

interface RefOffer {
  offerId: string;
  agent: string;
  rack: string;
  cpus: number; // milli
  mem: number;
}

interface RefPlaced {
  appId: string;
  agent: string;
  rack: string;
}

function value(field: string, agent: string, rack: string): string {
  return field === 'hostname' ? `${agent}.host` : rack;
}

function refFits(c: ConstraintTriple, appId: string, o: RefOffer, placed: readonly RefPlaced[]): boolean {
  const mine = placed.filter((p) => p.appId === appId);
  const v = value(c[0], o.agent, o.rack);
  const same = mine.filter((p) => value(c[0], p.agent, p.rack) === v).length;
  if (c[1] === 'UNIQUE') return same === 0;
  if (c[1] === 'MAX_PER') return same < Number(c[2]);
  throw new Error(`reference has no ${c[1]}`);
}

function pick<T>(rng: Random, xs: readonly T[]): T {
  return xs[randomInt(rng, 0, xs.length)];
}

function randomConstraints(rng: Random): ConstraintTriple[] {
  const options: ConstraintTriple[] = [['hostname', 'UNIQUE'], ['rack', 'UNIQUE'], ['hostname', 'MAX_PER', String(randomInt(rng, 1, 4))], ['rack', 'MAX_PER', String(randomInt(rng, 1, 5))]];
  return options.filter(() => rng.next() < 0.45);
}

describe('UNIQUE / MAX_PER against a simple reference (seeded; a failure prints its seed)', () => {
  it(`agrees with the reference on ${RUNS} random rounds`, () => {
    for (let seed = 1; seed <= RUNS; seed++) {
      const rng = new SeededRandom(seed);
      const racks = ['r1', 'r2', 'r3'];
      const agents = Array.from({ length: randomInt(rng, 1, 7) }, (_, k) => ({ agent: `a${k}`, rack: pick(rng, racks) }));
      const ref: RefOffer[] = [];
      const offers: Offer[] = [];
      for (const a of agents) {
        if (rng.next() < 0.2) continue; // some agents have no offer this round
        const cpus = randomInt(rng, 0, 5);
        const mem = randomInt(rng, 0, 5) * 256;
        offers.push(makeOffer({ id: `${a.agent}-o`, agent: a.agent, resources: `cpus:${cpus};mem:${mem}`, attributes: `rack:${a.rack}` }));
        ref.push({ offerId: `${a.agent}-o`, agent: a.agent, rack: a.rack, cpus: cpus * 1000, mem });
      }
      const apps = ['/x', '/y'].map((appId) => ({ appId, constraints: randomConstraints(rng), cpus: pick(rng, [0.5, 1, 1.5]), memMb: pick(rng, [128, 256]) }));
      const placed: PlacedInstance[] = [];
      const refPlaced: RefPlaced[] = [];
      for (let k = randomInt(rng, 0, 5); k > 0; k--) {
        const a = pick(rng, agents);
        const app = pick(rng, apps).appId;
        placed.push(placedOn(app, `old${k}`, { agent: a.agent, attributes: `rack:${a.rack}` }));
        refPlaced.push({ appId: app, agent: a.agent, rack: a.rack });
      }
      const requests: InstanceRequest[] = Array.from({ length: randomInt(rng, 1, 12) }, (_, k) => {
        const app = pick(rng, apps);
        return makeRequest(app.appId, `n${k}`, { cpus: app.cpus, memMb: app.memMb, constraints: app.constraints });
      });

      const result = computePlacement({ offers, requests, placed, nowMs: 0, random: new SeededRandom(seed) });
      const launchOf = new Map(result.launches.map((l) => [l.instanceId, l]));
      for (const r of requests) {
        const feasible = ref.filter((o) => o.cpus >= r.cpus * 1000 && o.mem >= r.memMb && r.constraints.every((c) => refFits(c, r.appId, o, refPlaced)));
        const launch = launchOf.get(r.instanceId);
        const where = `seed ${seed}, ${r.appId} ${r.instanceId} ${JSON.stringify(r.constraints)}`;
        if (feasible.length === 0) {
          expect(launch, `${where}: placed though nothing fits`).to.equal(undefined);
          expect(result.unplaced.has(r.instanceId), where).to.equal(true);
          continue;
        }
        expect(launch, `${where}: unplaced though ${feasible.map((o) => o.agent).join(',')} fit`).to.not.equal(undefined);
        const chosen = feasible.find((o) => o.offerId === launch!.offerId);
        expect(chosen, `${where}: placed on ${launch!.agentId}, which does not fit`).to.not.equal(undefined);
        const onAgent = (agent: string): number => refPlaced.filter((p) => p.appId === r.appId && p.agent === agent).length;
        const fewest = Math.min(...feasible.map((o) => onAgent(o.agent)));
        expect(onAgent(chosen!.agent), `${where}: not spread`).to.equal(fewest);
        chosen!.cpus -= r.cpus * 1000;
        chosen!.mem -= r.memMb;
        refPlaced.push({ appId: r.appId, agent: chosen!.agent, rack: chosen!.rack });
      }
    }
  });
});
