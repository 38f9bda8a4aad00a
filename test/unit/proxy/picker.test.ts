import { expect } from 'chai';
import { createPicker } from '../../../src/proxy/picker.ts';
import { newBackendState, type Backend } from '../../../src/proxy/route-table.ts';

function backends(weights: readonly number[]): Backend[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w, i) => ({ taskId: `t${i}`, appId: '/a', address: '127.0.0.1', port: 1000 + i, version: 'v', weight: w / sum, state: newBackendState() }));
}

function counts(picks: readonly (Backend | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of picks) out[b?.taskId ?? 'none'] = (out[b?.taskId ?? 'none'] ?? 0) + 1;
  return out;
}

describe('proxy pickers', () => {
  it('round robin visits every backend in turn', () => {
    const bs = backends([1, 1, 1]);
    const p = createPicker('roundrobin', bs);
    expect(Array.from({ length: 7 }, () => p.pick('1.1.1.1', 0, null)?.taskId)).to.deep.equal(['t0', 't1', 't2', 't0', 't1', 't2', 't0']);
  });

  it('smooth weighted round robin gives a 20 % canary exactly one pick in five, interleaved', () => {
    const bs = backends([40, 40, 20]);
    const p = createPicker('roundrobin', bs);
    const picks = Array.from({ length: 1000 }, () => p.pick('', 0, null));
    expect(counts(picks)).to.deep.equal({ t0: 400, t1: 400, t2: 200 });
    const firstFive = picks.slice(0, 5).map((b) => b?.taskId);
    expect(firstFive.filter((t) => t === 't2')).to.have.length(1);
  });

  it('skips ejected and tried backends, and fails open when all are ejected', () => {
    const bs = backends([1, 1, 1]);
    const p = createPicker('roundrobin', bs);
    (bs[1] as Backend).state.ejectedUntilMs = 1000;
    expect(counts(Array.from({ length: 4 }, () => p.pick('', 500, null)))).to.deep.equal({ t0: 2, t2: 2 });
    expect(counts(Array.from({ length: 3 }, () => p.pick('', 1000, null)))).to.deep.equal({ t0: 1, t1: 1, t2: 1 });
    for (const b of bs) b.state.ejectedUntilMs = 5000;
    expect(p.pick('', 0, [bs[0] as Backend, bs[2] as Backend])?.taskId).to.equal('t1');
    expect(p.pick('', 0, bs)).to.equal(undefined);
  });

  it('least connections prefers the idlest backend relative to weight, rotating ties', () => {
    const bs = backends([1, 1, 1]);
    const p = createPicker('leastconn', bs);
    (bs[0] as Backend).state.active = 5;
    (bs[1] as Backend).state.active = 2;
    (bs[2] as Backend).state.active = 2;
    const c = counts(Array.from({ length: 6 }, () => p.pick('', 0, null)));
    expect(Object.keys(c).sort()).to.deep.equal(['t1', 't2']);
    const weighted = backends([3, 1]);
    (weighted[0] as Backend).state.active = 2;
    (weighted[1] as Backend).state.active = 1;
    expect(createPicker('leastconn', weighted).pick('', 0, null)?.taskId).to.equal('t0');
  });

  it('source affinity keeps a client on one instance and moves only the clients of a removed one', () => {
    const bs = backends([1, 1, 1, 1]);
    const p = createPicker('source', bs);
    const clients = Array.from({ length: 400 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const before = clients.map((ip) => p.pick(ip, 0, null)?.taskId);
    expect(clients.map((ip) => p.pick(ip, 0, null)?.taskId)).to.deep.equal(before);
    const share = counts(clients.map((ip) => p.pick(ip, 0, null)));
    for (const n of Object.values(share)) expect(n).to.be.within(60, 140);
    const fewer = createPicker('source', bs.slice(0, 3));
    const after = clients.map((ip) => fewer.pick(ip, 0, null)?.taskId);
    const moved = clients.filter((_, i) => before[i] !== after[i]);
    expect(moved.length).to.equal(before.filter((t) => t === 't3').length);
  });
});
