/**
 * Launches never take more than was offered, over random offers (reserved
 * and unreserved, several port ranges, multi-role allocation) and random
 * requests (resources, dynamic and required ports, roles): for every offer,
 * the sum of its launches' resources is contained in it (same identities:
 * role, reservation, allocation), every launch's host ports are exactly the
 * ports in its resources, and no host port is handed out twice on an agent.
 * A failure prints its seed.
 */
import { expect } from 'chai';
import { parseResources } from '../../../../src/common/resource-parse.ts';
import { SeededRandom, randomInt, type Random } from '../../../../src/common/random.ts';
import { add, contains, resourcesToString } from '../../../../src/common/resources.ts';
import { computePlacement, type InstanceRequest } from '../../../../src/framework/placement/index.ts';
import type { Offer, Resource } from '../../../../src/protocol/mesos-types.ts';
import { makeRequest } from './helpers.ts';

const RUNS = 300;

function pick<T>(rng: Random, xs: readonly T[]): T {
  return xs[randomInt(rng, 0, xs.length)];
}

function randomOffer(rng: Random, k: number): Offer {
  const parts = [`cpus:${randomInt(rng, 0, 5)}`, `mem:${randomInt(rng, 0, 9) * 64}`, `disk:${randomInt(rng, 0, 3) * 100}`];
  if (rng.next() < 0.5) parts.push(`cpus(web):${randomInt(rng, 1, 3)}`, `mem(web):${randomInt(rng, 1, 5) * 64}`);
  const base = 31000 + randomInt(rng, 0, 10);
  parts.push(`ports:[${base}-${base + randomInt(rng, 0, 6)},${base + 20}-${base + 20 + randomInt(rng, 0, 3)}]`);
  if (rng.next() < 0.3) parts.push(`ports(web):[${base + 40}-${base + 42}]`);
  const role = rng.next() < 0.3 ? pick(rng, ['web', 'batch']) : undefined;
  let resources: Resource[] = parseResources(parts.join(';'));
  if (role !== undefined) resources = resources.map((r) => ({ ...r, allocation_info: { role } }));
  const offer: Offer = { id: { value: `o${k}` }, framework_id: { value: 'fw' }, agent_id: { value: `a${k}` }, hostname: `a${k}.host`, resources };
  if (role !== undefined) offer.allocation_info = { role };
  return offer;
}

function randomRequest(rng: Random, k: number): InstanceRequest {
  const portCount = randomInt(rng, 0, 4);
  const required = rng.next() < 0.3 ? Array.from({ length: portCount }, (_, j) => 31000 + j * 3 + randomInt(rng, 0, 3)) : undefined;
  const uniqueRequired = required !== undefined && new Set(required).size === required.length ? required : undefined;
  return makeRequest(`/app${k % 3}`, `i${k}`, {
    cpus: pick(rng, [0, 0.1, 0.5, 1, 2]),
    memMb: pick(rng, [0, 16, 64, 128]),
    diskMb: pick(rng, [0, 0, 50]),
    portCount,
    requiredPorts: uniqueRequired,
    role: pick(rng, ['*', 'web', 'batch']),
    acceptedResourceRoles: pick(rng, [[], [], ['*'], ['web'], ['web', '*']]),
  });
}

function portsOf(rs: readonly Resource[]): number[] {
  return rs.filter((r) => r.name === 'ports').flatMap((r) => r.ranges!.range.flatMap((x) => Array.from({ length: x.end - x.begin + 1 }, (_, j) => x.begin + j)));
}

describe('placement never over-commits an offer (seeded; a failure prints its seed)', () => {
  it(`holds over ${RUNS} random rounds`, () => {
    for (let seed = 1; seed <= RUNS; seed++) {
      const rng = new SeededRandom(seed);
      const offers = Array.from({ length: randomInt(rng, 1, 5) }, (_, k) => randomOffer(rng, k));
      const requests = Array.from({ length: randomInt(rng, 1, 15) }, (_, k) => randomRequest(rng, k));
      const result = computePlacement({ offers, requests, placed: [], nowMs: 0, random: new SeededRandom(seed) });
      expect(result.launches.length + result.unplaced.size, `seed ${seed}: every request answered once`).to.equal(requests.length);
      for (const offer of offers) {
        const launches = result.launches.filter((l) => l.offerId === offer.id.value);
        let used: Resource[] = [];
        const ports = new Set<number>();
        for (const l of launches) {
          used = add(used, l.resources);
          const inResources = portsOf(l.resources).sort((a, b) => a - b);
          expect(inResources, `seed ${seed}: ${l.instanceId} host ports match its resources`).to.deep.equal([...l.hostPorts].sort((a, b) => a - b));
          for (const p of l.hostPorts) {
            expect(ports.has(p), `seed ${seed}: port ${p} twice on ${offer.agent_id.value}`).to.equal(false);
            ports.add(p);
          }
          const request = requests.find((r) => r.instanceId === l.instanceId)!;
          if (request.requiredPorts !== undefined && request.requiredPorts.length > 0) expect(l.hostPorts, `seed ${seed}: required ports`).to.deep.equal(request.requiredPorts);
          else expect(l.hostPorts.length, `seed ${seed}: port count`).to.equal(request.portCount);
        }
        expect(contains(offer.resources!, used), `seed ${seed}: ${offer.id.value} offered ${resourcesToString(offer.resources!)}, launched ${resourcesToString(used)}`).to.equal(true);
        expect(result.unusedOfferIds.includes(offer.id.value), `seed ${seed}: unused iff no launch`).to.equal(launches.length === 0);
      }
    }
  });
});
