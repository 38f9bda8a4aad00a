import { expect } from 'chai';
import { AcceptBalancer, churnClosesPerSecond, slackFor, type WorkerLoad } from '../../../src/proxy/accept-balancer.ts';

/** Reports with no adoptions, from bare counts by slot. */
function counts(by: Record<number, number>): Record<string, WorkerLoad> {
  return Object.fromEntries(Object.entries(by).map(([slot, connections]) => [slot, { connections, adoptedFrom: {} }]));
}

/** Accepts `n` connections on `b`'s worker, which starts with `mine`; returns how many it kept and where the rest went. */
function burst(b: AcceptBalancer, n: number, mine = 0): { kept: number; passed: Map<number, number> } {
  const passed = new Map<number, number>();
  let kept = mine;
  for (let i = 0; i < n; i++) {
    const to = b.placeNew(kept, 0);
    if (to === undefined) kept++;
    else passed.set(to, (passed.get(to) ?? 0) + 1);
  }
  return { kept: kept - mine, passed };
}

describe('AcceptBalancer', () => {
  it('keeps every connection while it knows of no other worker', () => {
    const b = new AcceptBalancer(0);
    expect(burst(b, 100).kept).to.equal(100);
    b.update(counts({ 0: 100 }));
    expect(b.placeNew(100, 0)).to.equal(undefined);
  });

  it('splits a burst of 64 connections on one worker about evenly before any report arrives', () => {
    const b = new AcceptBalancer(0);
    b.update(counts({ 0: 0, 1: 0 }));
    const { kept, passed } = burst(b, 64);
    expect(kept + (passed.get(1) ?? 0)).to.equal(64);
    expect(kept).to.be.within(32, 32 + slackFor(32) + 1);
  });

  it('spreads a burst over three workers, the least loaded first', () => {
    const b = new AcceptBalancer(1);
    b.update(counts({ 0: 10, 1: 10, 2: 0 }));
    const { kept, passed } = burst(b, 30, 10);
    const totals = [10 + (passed.get(0) ?? 0), 10 + kept, passed.get(2) ?? 0];
    expect(totals.reduce((s, n) => s + n, 0)).to.equal(50);
    expect(Math.max(...totals) - Math.min(...totals)).to.be.at.most(slackFor(20) + 1);
  });

  it('passes nothing while within the slack, which grows with the load', () => {
    const b = new AcceptBalancer(0);
    b.update(counts({ 1: 100 }));
    let limit = 100;
    while (limit <= 100 + slackFor(limit)) limit++;
    // About a thirty-second above the other worker's 100.
    expect(limit).to.be.within(103, 106);
    expect(b.placeNew(limit - 1, 0)).to.equal(undefined);
    expect(b.placeNew(limit, 0)).to.equal(1);
    expect(slackFor(0)).to.equal(1);
    expect(slackFor(64)).to.equal(3);
    expect(slackFor(1000)).to.equal(32);
  });

  it('counts passes a report does not show adopted yet, so a report that overtakes them causes no extra passes', () => {
    const b = new AcceptBalancer(0);
    b.update(counts({ 1: 0 }));
    const first = burst(b, 40);
    const passed = first.passed.get(1) ?? 0;
    expect(passed).to.be.greaterThan(10);
    // Worker 1 reports before it adopted any of them: they are on the way, so the next 10 still split about evenly.
    b.update({ 1: { connections: 0, adoptedFrom: { 0: 0 } } });
    const second = burst(b, 10, first.kept);
    expect(second.kept).to.be.within(4, 6);
    // It adopted them all and holds them: the same picture.
    b.update({ 1: { connections: passed + (second.passed.get(1) ?? 0), adoptedFrom: { 0: passed + (second.passed.get(1) ?? 0) } } });
    expect(burst(b, 10, first.kept + second.kept).kept).to.be.within(4, 6);
    // Its clients left: it is the place for the next ones.
    b.update({ 1: { connections: 0, adoptedFrom: { 0: 1_000 } } });
    expect(b.placeNew(first.kept, 0)).to.equal(1);
  });

  it('forgets workers a report leaves out, and starts a slot that comes back from zero', () => {
    const b = new AcceptBalancer(0);
    b.update(counts({ 1: 0 }));
    burst(b, 20);
    b.update(counts({ 0: 20 }));
    expect(b.placeNew(1_000, 0)).to.equal(undefined);
    // A new worker in slot 1 has adopted nothing: our old passes must not count as on their way to it.
    b.update({ 1: { connections: 0, adoptedFrom: {} } });
    expect(b.placeNew(20, 0)).to.equal(1);
  });

  it('ignores counts that are not numbers for a slot', () => {
    const b = new AcceptBalancer(0);
    b.update({ x: { connections: 0, adoptedFrom: {} }, 1: { connections: Number.NaN, adoptedFrom: {} } });
    expect(b.placeNew(1_000, 0)).to.equal(undefined);
  });

  it('passes nothing while short-lived connections churn, and balances again once the churn stops or connections last', () => {
    const b = new AcceptBalancer(0);
    b.update(counts({ 1: 0 }));
    // One request per connection: each lives a few ms, hundreds close a second.
    for (let t = 0; t < 200; t++) b.noteClosed(5, 10_000 + t);
    expect(b.placeNew(40, 10_200)).to.equal(undefined);
    expect(b.placeNew(40, 11_500)).to.equal(undefined);
    // Two seconds without closes: the next burst is balanced again.
    expect(b.placeNew(40, 12_000)).to.equal(1);
    // A trickle of short connections (a health check a second) does not stop passing.
    const t = new AcceptBalancer(0);
    t.update(counts({ 1: 0 }));
    for (let i = 0; i < churnClosesPerSecond - 1; i++) t.noteClosed(5, 30_000 + i);
    expect(t.placeNew(40, 30_500)).to.equal(1);
    // Nor do long-lived connections closing together.
    const c = new AcceptBalancer(0);
    c.update(counts({ 1: 0 }));
    for (let i = 0; i < 200; i++) c.noteClosed(10_000, 20_000);
    expect(c.placeNew(40, 20_000)).to.equal(1);
  });
});
