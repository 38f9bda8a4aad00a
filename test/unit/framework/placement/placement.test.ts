/**
 * computePlacement end to end on small inputs: resource fit and its reasons,
 * roles, host ports (requirePorts and random choice from the offered ranges),
 * several instances per offer, spread, constraints within one round, and the
 * per-app summary feeding Marathon's processedOffersSummary.
 */
import { expect } from 'chai';
import { SeededRandom } from '../../../../src/common/random.ts';
import { computePlacement, OfferStatsAccumulator, type InstanceRequest, type PlacedInstance, type PlacementResult } from '../../../../src/framework/placement/index.ts';
import type { Offer } from '../../../../src/protocol/mesos-types.ts';
import { makeOffer, makeRequest, placedOn } from './helpers.ts';

function place(offers: Offer[], requests: InstanceRequest[], placed: PlacedInstance[] = [], seed = 1): PlacementResult {
  return computePlacement({ offers, requests, placed, nowMs: 1_000, random: new SeededRandom(seed) });
}

function reasonsOf(p: PlacementResult, instanceId: string): string[][] {
  return p.unplaced.get(instanceId)!.rejections.map((r) => [...r.reasons]);
}

describe('computePlacement', () => {
  it('takes exactly the requested scalars from the offer, keeping the offered identity', () => {
    const offer = makeOffer({ agent: 'a1', resources: 'cpus:2;mem:1024;disk:100', role: 'web' });
    const p = place([offer], [makeRequest('/a', 'a.1', { cpus: 0.5, memMb: 128, diskMb: 10, role: 'web' })]);
    expect(p.launches).to.have.length(1);
    expect(p.launches[0].resources).to.deep.equal([
      { name: 'cpus', type: 'SCALAR', allocation_info: { role: 'web' }, scalar: { value: 0.5 } },
      { name: 'mem', type: 'SCALAR', allocation_info: { role: 'web' }, scalar: { value: 128 } },
      { name: 'disk', type: 'SCALAR', allocation_info: { role: 'web' }, scalar: { value: 10 } },
    ]);
    expect(p.unusedOfferIds).to.deep.equal([]);
    expect(offer.resources![0].scalar!.value, 'input untouched').to.equal(2);
  });

  it('names each missing resource with Marathon\'s reasons', () => {
    const offer = makeOffer({ agent: 'a1', resources: 'cpus:1;mem:64;disk:10;ports:[31000-31000]' });
    const p = place([offer], [
      makeRequest('/a', 'cpu', { cpus: 2 }),
      makeRequest('/b', 'mem', { memMb: 128 }),
      makeRequest('/c', 'disk', { diskMb: 20 }),
      makeRequest('/d', 'ports', { portCount: 2 }),
      makeRequest('/e', 'all', { cpus: 2, memMb: 128, diskMb: 20, portCount: 2 }),
    ]);
    expect(p.launches).to.deep.equal([]);
    expect(reasonsOf(p, 'cpu')).to.deep.equal([['InsufficientCpus']]);
    expect(reasonsOf(p, 'mem')).to.deep.equal([['InsufficientMemory']]);
    expect(reasonsOf(p, 'disk')).to.deep.equal([['InsufficientDisk']]);
    expect(reasonsOf(p, 'ports')).to.deep.equal([['InsufficientPorts']]);
    expect(reasonsOf(p, 'all')).to.deep.equal([['InsufficientCpus', 'InsufficientMemory', 'InsufficientDisk', 'InsufficientPorts']]);
    expect(p.unusedOfferIds).to.deep.equal(['a1-o']);
  });

  it('puts several instances on one offer while its resources last', () => {
    const p = place([makeOffer({ agent: 'a1', resources: 'cpus:1;mem:1024' })], [1, 2, 3].map((k) => makeRequest('/a', `a.${k}`, { cpus: 0.4, memMb: 100 })));
    expect(p.launches.map((l) => l.instanceId)).to.deep.equal(['a.1', 'a.2']);
    expect(reasonsOf(p, 'a.3')).to.deep.equal([['InsufficientCpus']]);
  });

  it('spreads an app over agents by default (fewest of its instances first, then offer order)', () => {
    const offers = ['a1', 'a2', 'a3'].map((agent) => makeOffer({ agent }));
    const placed = [placedOn('/a', 'old', { agent: 'a1' })];
    const p = place(offers, [1, 2, 3, 4, 5].map((k) => makeRequest('/a', `a.${k}`)), placed);
    expect(p.launches.map((l) => l.agentId)).to.deep.equal(['a2', 'a3', 'a1', 'a2', 'a3']);
  });

  it('sees its own launches as placed: UNIQUE and MAX_PER hold within one round', () => {
    const offers = ['a1', 'a2'].map((agent) => makeOffer({ agent }));
    const unique = place(offers, [1, 2, 3].map((k) => makeRequest('/u', `u.${k}`, { constraints: [['hostname', 'UNIQUE']] })));
    expect(unique.launches.map((l) => l.agentId)).to.deep.equal(['a1', 'a2']);
    expect(unique.unplaced.get('u.3')!.rejections.map((r) => r.failedConstraints.map((c) => c.describe))).to.deep.equal([
      ['hostname:UNIQUE: 1 instance(s) already on hostname=a1.host'],
      ['hostname:UNIQUE: 1 instance(s) already on hostname=a2.host'],
    ]);
    const maxPer = place(offers, [1, 2, 3, 4, 5].map((k) => makeRequest('/m', `m.${k}`, { constraints: [['hostname', 'MAX_PER', '2']] })));
    expect(maxPer.launches).to.have.length(4);
    expect([...maxPer.unplaced.keys()]).to.deep.equal(['m.5']);
  });

  it('GROUP_BY spreads over racks within one round', () => {
    const offers = ['a', 'b', 'c'].flatMap((rack) => [1, 2].map((n) => makeOffer({ agent: `${rack}${n}`, attributes: `rack:${rack}` })));
    const p = place(offers, [1, 2, 3, 4, 5, 6].map((k) => makeRequest('/g', `g.${k}`, { constraints: [['rack', 'GROUP_BY', '3']], instances: 6 })));
    const perRack = new Map<string, number>();
    for (const l of p.launches) perRack.set(l.agentId[0], (perRack.get(l.agentId[0]) ?? 0) + 1);
    expect([...perRack].sort()).to.deep.equal([['a', 2], ['b', 2], ['c', 2]]);
  });

  describe('roles', () => {
    it('uses unreserved and the app role\'s reserved resources by default, reserved first', () => {
      const offer = makeOffer({ agent: 'a1', resources: 'cpus:1;cpus(web):0.5;mem:256' });
      const p = place([offer], [makeRequest('/a', 'a.1', { cpus: 1, memMb: 64, role: 'web' })]);
      expect(p.launches[0].resources.filter((r) => r.name === 'cpus').map((r) => [r.role ?? '*', r.scalar!.value])).to.deep.equal([['web', 0.5], ['*', 0.5]]);
    });

    it('acceptedResourceRoles ["web"] refuses unreserved resources: UnfulfilledRole', () => {
      const p = place([makeOffer({ agent: 'a1', resources: 'cpus:4;mem:256' })], [makeRequest('/a', 'a.1', { role: 'web', acceptedResourceRoles: ['web'] })]);
      expect(reasonsOf(p, 'a.1')).to.deep.equal([['UnfulfilledRole', 'InsufficientCpus', 'InsufficientMemory']]);
    });

    it('acceptedResourceRoles ["*"] takes only unreserved resources', () => {
      const p = place([makeOffer({ agent: 'a1', resources: 'cpus(web):4;mem(web):256;cpus:0.05;mem:512' })], [makeRequest('/a', 'a.1', { role: 'web', acceptedResourceRoles: ['*'] })]);
      expect(reasonsOf(p, 'a.1')).to.deep.equal([['InsufficientCpus']]);
    });

    it('an offer allocated to another role is not the app\'s', () => {
      const p = place([makeOffer({ agent: 'a1', role: 'batch' })], [makeRequest('/a', 'a.1', { role: 'web' })]);
      expect(reasonsOf(p, 'a.1')).to.deep.equal([['UnfulfilledRole']]);
    });
  });

  describe('ports', () => {
    it('requirePorts takes exactly the named ports, or says InsufficientPorts', () => {
      const offer = makeOffer({ agent: 'a1', resources: 'cpus:4;mem:1024;ports:[8000-8010,9000-9000]' });
      const p = place([offer], [
        makeRequest('/a', 'a.1', { portCount: 2, requiredPorts: [8005, 9000] }),
        makeRequest('/b', 'b.1', { portCount: 1, requiredPorts: [9000] }),
      ]);
      expect(p.launches[0].hostPorts).to.deep.equal([8005, 9000]);
      expect(p.launches[0].resources.filter((r) => r.name === 'ports').map((r) => r.ranges!.range)).to.deep.equal([[{ begin: 8005, end: 8005 }, { begin: 9000, end: 9000 }]]);
      expect(reasonsOf(p, 'b.1')).to.deep.equal([['InsufficientPorts']]);
    });

    it('picks distinct free ports from the offered ranges, deterministically for a seed, never twice in a round', () => {
      const offer = makeOffer({ agent: 'a1', resources: 'cpus:4;mem:1024;ports:[31000-31004,32000-32002]' });
      const requests = [1, 2, 3, 4, 5].map((k) => makeRequest('/a', `a.${k}`, { portCount: 2 }));
      const p = place([offer], requests, [], 7);
      expect(place([offer], requests, [], 7).launches.map((l) => l.hostPorts)).to.deep.equal(p.launches.map((l) => l.hostPorts));
      const all = p.launches.flatMap((l) => l.hostPorts);
      expect(all).to.have.length(8);
      expect(new Set(all).size).to.equal(8);
      for (const port of all) expect((port >= 31000 && port <= 31004) || (port >= 32000 && port <= 32002), String(port)).to.equal(true);
      for (const l of p.launches) {
        const inResources = l.resources.filter((r) => r.name === 'ports').flatMap((r) => r.ranges!.range.flatMap((x) => Array.from({ length: x.end - x.begin + 1 }, (_, k) => x.begin + k)));
        expect([...inResources].sort()).to.deep.equal([...l.hostPorts].sort());
      }
      expect(reasonsOf(p, 'a.5')).to.deep.equal([['InsufficientPorts']]);
    });

    it('different seeds choose differently (the choice is random, not first-fit)', () => {
      const offer = makeOffer({ agent: 'a1', resources: 'cpus:4;mem:1024;ports:[31000-31999]' });
      const chosen = new Set<number>();
      for (let seed = 1; seed <= 10; seed++) chosen.add(place([offer], [makeRequest('/a', 'a.1', { portCount: 1 })], [], seed).launches[0].hostPorts[0]);
      expect(chosen.size).to.be.greaterThan(5);
    });
  });

  describe('summary and processedOffersSummary', () => {
    it('counts used and unused offers per app with the funnel\'s first reason', () => {
      const offers = [
        makeOffer({ id: 'o1', agent: 'a1', resources: 'cpus:1;mem:1024' }),
        makeOffer({ id: 'o2', agent: 'a2', resources: 'cpus:0.1;mem:1024' }),
        makeOffer({ id: 'o3', agent: 'a3', resources: 'cpus:4;mem:16', attributes: 'rack:x' }),
      ];
      const requests = [1, 2].map((k) => makeRequest('/a', `a.${k}`, { cpus: 1, memMb: 64, constraints: [['rack', 'UNLIKE', 'x']] }));
      const p = place(offers, requests);
      expect(p.summary.apps).to.deep.equal([{
        appId: '/a',
        usedOffers: 1,
        unusedOffers: [
          { agentId: 'a2', offerId: 'o2', reasons: ['InsufficientCpus'] },
          { agentId: 'a3', offerId: 'o3', reasons: ['UnfulfilledConstraint', 'InsufficientMemory'] },
        ],
      }]);
      const stats = new OfferStatsAccumulator();
      stats.record(p.summary.apps[0], Date.UTC(2026, 0, 1));
      stats.record(p.summary.apps[0], Date.UTC(2026, 0, 2));
      const s = stats.summary();
      expect(Object.keys(s)).to.deep.equal(['processedOffersCount', 'unusedOffersCount', 'lastUnusedOfferAt', 'lastUsedOfferAt', 'rejectSummaryLastOffers', 'rejectSummaryLaunchAttempt']);
      expect(s.processedOffersCount).to.equal(6);
      expect(s.unusedOffersCount).to.equal(4);
      expect(s.lastUnusedOfferAt).to.equal('2026-01-02T00:00:00.000Z');
      expect(s.rejectSummaryLastOffers.slice(0, 5)).to.deep.equal([
        { reason: 'UnfulfilledRole', declined: 0, processed: 2 },
        { reason: 'UnfulfilledConstraint', declined: 1, processed: 2 },
        { reason: 'NoCorrespondingReservationFound', declined: 0, processed: 1 },
        { reason: 'AgentMaintenance', declined: 0, processed: 1 },
        { reason: 'InsufficientCpus', declined: 1, processed: 1 },
      ]);
      expect(s.rejectSummaryLaunchAttempt.map((x) => [x.reason, x.declined, x.processed])).to.deep.equal([
        ['UnfulfilledRole', 0, 6], ['UnfulfilledConstraint', 2, 6], ['NoCorrespondingReservationFound', 0, 4], ['AgentMaintenance', 0, 4],
        ['InsufficientCpus', 2, 4], ['InsufficientMemory', 0, 2], ['InsufficientDisk', 0, 2], ['InsufficientGpus', 0, 2], ['InsufficientPorts', 0, 2],
        ['DeclinedScarceResources', 0, 2],
      ]);
      stats.reset();
      expect(stats.summary()).to.deep.equal({
        processedOffersCount: 0,
        unusedOffersCount: 0,
        rejectSummaryLastOffers: stats.summary().rejectSummaryLastOffers,
        rejectSummaryLaunchAttempt: stats.summary().rejectSummaryLaunchAttempt,
      });
      expect(stats.summary().rejectSummaryLastOffers.every((x) => x.declined === 0 && x.processed === 0)).to.equal(true);
    });

    it('an instance with no offers at all is unplaced with no rejections', () => {
      const p = place([], [makeRequest('/a', 'a.1')]);
      expect(p.unplaced.get('a.1')!.rejections).to.deep.equal([]);
      expect(p.summary.apps).to.deep.equal([{ appId: '/a', usedOffers: 0, unusedOffers: [] }]);
    });
  });
});
