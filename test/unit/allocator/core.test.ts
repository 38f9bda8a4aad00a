import { expect } from 'chai';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/common/errors.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { allocateTo, resourcesToString, scalar, stripAllocation } from '../../../src/common/resources.ts';
import { parseResources } from '../../../src/common/resource-parse.ts';
import {
  AllocatorCore,
  MAX_REFUSE_SECONDS,
  computeAllocation,
  describeOffer,
  expiredOffers,
  type AllocatorAgent,
} from '../../../src/master/allocator/index.ts';

const R = (s: string) => parseResources(s);

function agents(n: number, resources = 'cpus:4;mem:4096'): AllocatorAgent[] {
  return Array.from({ length: n }, (_, i) => ({ id: `a${i}`, hostname: `h${i}`, total: R(resources) }));
}

describe('computeAllocation (snapshot in, plan out)', () => {
  it('counts existing allocations in shares and free resources', () => {
    const input = {
      agents: [
        { id: 'a0', hostname: 'h0', total: R('cpus:4;mem:4096'), allocations: [{ frameworkId: 'busy', role: 'r', resources: R('cpus:3;mem:1024') }] },
        { id: 'a1', hostname: 'h1', total: R('cpus:4;mem:4096') },
      ],
      frameworks: [
        { id: 'busy', roles: ['r'] },
        { id: 'idle', roles: ['r'] },
      ],
      nowMs: 0,
    };
    const plan = computeAllocation(input);
    // idle has share 0 < busy's 3/8, so it is served first wherever it comes first;
    // both agents are offered, one to each framework.
    const lines = plan.offers.map(describeOffer).sort();
    expect(lines).to.have.length(2);
    expect(plan.offers.find((o) => o.agentId === 'a0')?.resources.map((r) => r.scalar?.value)).to.deep.equal([1, 3072]);
    expect(plan.describe()).to.equal('plan at 0: 2 offer(s); 2 agent(s) considered, 2 framework(s) eligible, 0 filtered, 0 below minimum');
    // The snapshot is not modified.
    expect(resourcesToString(input.agents[0].total)).to.equal('cpus:4; mem:4096');
  });

  it('honours outstanding offers and filters from the snapshot', () => {
    const plan = computeAllocation({
      agents: [
        { id: 'a0', hostname: 'h0', total: R('cpus:4;mem:4096'), allocations: [{ frameworkId: 'f', role: 'r', resources: R('cpus:1;mem:128'), offered: true }] },
        { id: 'a1', hostname: 'h1', total: R('cpus:4;mem:4096') },
      ],
      frameworks: [{ id: 'f', roles: ['r'] }],
      filters: [{ frameworkId: 'f', agentId: 'a1', resources: R('cpus:8;mem:8192'), expiresAtMs: 10 }],
      nowMs: 5,
    });
    expect(plan.offers).to.deep.equal([]);
    expect(plan.stats.filteredPairs).to.equal(1);
  });

  it('is deterministic for a seed, and the seed decides the agent order', () => {
    const run = (seed: number) =>
      computeAllocation({
        agents: agents(8),
        frameworks: [
          { id: 'f1', roles: ['r'] },
          { id: 'f2', roles: ['r'] },
        ],
        nowMs: 0,
        random: new SeededRandom(seed),
      }).offers.map((o) => `${o.frameworkId}@${o.agentId}`);
    expect(run(7)).to.deep.equal(run(7));
    const orders = new Set([1, 2, 3, 4, 5].map((s) => run(s).join(',')));
    expect(orders.size).to.be.greaterThan(1);
  });

  it('rejects bad options with a field path', () => {
    expect(() => computeAllocation({ agents: [], frameworks: [], nowMs: 0, roleWeights: { r: 0 } })).to.throw(
      ValidationError,
      'roleWeights.r: expected a positive finite number, got 0',
    );
    expect(() => new AllocatorCore({ minOffer: { cpus: -1, memMb: 0 } })).to.throw(ValidationError, 'minOffer: expected non-negative cpus and memMb');
    expect(() => computeAllocation({ agents: [], frameworks: [{ id: 'f', roles: [] }], nowMs: 0 })).to.throw(
      ValidationError,
      'frameworks.f.roles: expected at least one role, got []',
    );
  });
});

describe('AllocatorCore bookkeeping', () => {
  it('returns a removed framework’s resources to the free pools and forgets its share', () => {
    const core = new AllocatorCore();
    for (const a of agents(3)) core.addAgent(a);
    core.addFramework({ id: 'f', roles: ['r'] });
    expect(core.allocate(0).offers).to.have.length(3);
    expect(core.frameworkShare('f', 'r')).to.equal(1);
    core.removeFramework('f');
    core.removeFramework('f'); // idempotent
    expect(core.frameworkShare('f', 'r')).to.equal(0);
    for (const id of ['a0', 'a1', 'a2']) expect(resourcesToString(core.agentFree(id) ?? [])).to.equal('cpus:4; mem:4096');
    core.addFramework({ id: 'g', roles: ['r'] });
    expect(core.allocate(1).offers).to.have.length(3);
  });

  it('recovers multi-role resources without allocation_info by where they are held', () => {
    const core = new AllocatorCore();
    core.addAgent({ id: 'a', hostname: 'h', total: R('cpus:4;mem:4096;cpus(db):2') });
    core.addFramework({ id: 'f', roles: ['db', 'web'] });
    const [offer] = core.allocate(0).offers;
    expect(offer.role).to.equal('db');
    expect(offer.resources.every((r) => r.allocation_info?.role === 'db')).to.equal(true);
    const out = core.recoverResources('f', 'a', R('cpus(db):2;mem:96'));
    expect(resourcesToString(out.recovered)).to.equal('mem:96; cpus(db):2');
    expect(out.ignored).to.deep.equal([]);
    expect(resourcesToString(core.allocatedOn('f', 'a').get('db') ?? [])).to.equal('cpus:4; mem:4000');
  });

  it('ignores recoveries of what is not held, and of unknown agents', () => {
    const core = new AllocatorCore();
    core.addAgent({ id: 'a', hostname: 'h', total: R('cpus:1;mem:64') });
    core.addFramework({ id: 'f', roles: ['r'] });
    core.allocate(0);
    const out = core.recoverResources('f', 'a', allocateTo(R('cpus:2'), 'r'));
    expect(resourcesToString(stripAllocation(out.ignored))).to.equal('cpus:2');
    expect(scalar(core.allocatedOn('f', 'a').get('r') ?? [], 'cpus')).to.equal(1);
    expect(core.recoverResources('f', 'nope', R('cpus:1')).ignored).to.have.length(1);
  });

  it('clamps free at empty when told of more in use than an agent has', () => {
    const core = new AllocatorCore();
    core.addAgent({ id: 'a', hostname: 'h', total: R('cpus:1;mem:64'), allocations: [{ frameworkId: 'f', role: 'r', resources: R('cpus:2') }] });
    expect(resourcesToString(core.agentFree('a') ?? [])).to.equal('mem:64');
  });

  it('drops an agent’s holdings from shares when it is removed', () => {
    const core = new AllocatorCore();
    for (const a of agents(2)) core.addAgent(a);
    core.addFramework({ id: 'f', roles: ['r'] });
    core.allocate(0);
    core.removeAgent('a0');
    expect(core.frameworkShare('f', 'r')).to.equal(1);
    expect(core.totalVector()).to.deep.equal({ cpus: 4, memMb: 4096, diskMb: 0, gpus: 0, ports: 0 });
    expect(core.agentCount).to.equal(1);
  });

  it('bounds refuse_seconds: none for <= 0 or NaN, at most a year', () => {
    const core = new AllocatorCore();
    core.addAgent({ id: 'a', hostname: 'h', total: R('cpus:1;mem:64') });
    core.addFramework({ id: 'f', roles: ['r'] });
    const cycle = () => core.allocate(0).offers[0];
    for (const refuseSeconds of [0, -3, Number.NaN]) {
      const o = cycle();
      expect(core.recoverResources('f', 'a', o.resources, { nowMs: 0, refuseSeconds }).filter).to.equal(undefined);
    }
    const o = cycle();
    const f = core.recoverResources('f', 'a', o.resources, { nowMs: 0, refuseSeconds: Number.POSITIVE_INFINITY }).filter;
    expect(f?.expiresAtMs).to.equal(MAX_REFUSE_SECONDS * 1000);
  });

  it('follows role changes and suppression given in updateFramework', () => {
    const core = new AllocatorCore();
    core.addAgent({ id: 'a', hostname: 'h', total: R('cpus:1;mem:64;cpus(b):1') });
    core.addFramework({ id: 'f', roles: ['a'] });
    core.updateFramework('f', { roles: ['b'], suppressedRoles: [] });
    const [offer] = core.allocate(0).offers;
    expect(offer.role).to.equal('b');
    expect(resourcesToString(stripAllocation(offer.resources))).to.equal('cpus:1; mem:64; cpus(b):1');
  });

  it('throws typed errors for unknown and duplicate ids', () => {
    const core = new AllocatorCore();
    core.addFramework({ id: 'f', roles: ['r'] });
    expect(() => core.addFramework({ id: 'f', roles: ['r'] })).to.throw(ConflictError);
    expect(() => core.revive('g')).to.throw(NotFoundError, 'framework g is not known to the allocator');
    expect(() => core.setAgentActive('x', true)).to.throw(NotFoundError, 'agent x is not known to the allocator');
    core.removeAgent('x'); // idempotent
  });
});

describe('expiredOffers', () => {
  it('returns offers at or past the timeout; none when the timeout is off', () => {
    const offers = [
      { id: 'o1', createdAtMs: 0 },
      { id: 'o2', createdAtMs: 500 },
      { id: 'o3', createdAtMs: 1000 },
    ];
    expect(expiredOffers(offers, 1500, 1000).map((o) => o.id)).to.deep.equal(['o1', 'o2']);
    expect(expiredOffers(offers, 1500, 0)).to.deep.equal([]);
  });
});
