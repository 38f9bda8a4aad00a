import { expect } from 'chai';
import { DeltaWindow } from '../../../src/registry/delta-window.ts';

interface Entry {
  readonly revision: number;
}

function revisions(w: DeltaWindow<Entry>, since: number): number[] | string {
  const a = w.since(since);
  return a.kind === 'deltas' ? a.entries.map((e) => e.revision) : a.reason;
}

describe('DeltaWindow', () => {
  it('answers every entry after a revision inside the window', () => {
    const w = new DeltaWindow<Entry>(8, 0);
    for (let r = 1; r <= 5; r++) w.push({ revision: r });
    expect(revisions(w, 0)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(revisions(w, 3)).to.deep.equal([4, 5]);
    expect(revisions(w, 5)).to.deep.equal([]);
    expect(revisions(w, 6)).to.equal('ahead');
  });

  it('evicts the oldest beyond capacity and then says "too old" below the new base', () => {
    const w = new DeltaWindow<Entry>(3, 0);
    for (let r = 1; r <= 7; r++) w.push({ revision: r });
    expect(w.size).to.equal(3);
    expect(w.base).to.equal(4);
    expect(w.newest).to.equal(7);
    expect(revisions(w, 3)).to.equal('too-old');
    expect(revisions(w, 4)).to.deep.equal([5, 6, 7]);
    expect(revisions(w, 6)).to.deep.equal([7]);
  });

  it('handles revision gaps: a revision between two entries gets everything above it', () => {
    const w = new DeltaWindow<Entry>(4, 10);
    for (const r of [12, 15, 20, 21, 30]) w.push({ revision: r });
    expect(w.base).to.equal(12);
    expect(revisions(w, 11)).to.equal('too-old');
    expect(revisions(w, 13)).to.deep.equal([15, 20, 21, 30]);
    expect(revisions(w, 20)).to.deep.equal([21, 30]);
    expect(revisions(w, 25)).to.deep.equal([30]);
  });

  it('an empty window serves exactly its base revision', () => {
    const w = new DeltaWindow<Entry>(4, 42);
    expect(revisions(w, 42)).to.deep.equal([]);
    expect(revisions(w, 41)).to.equal('too-old');
    expect(revisions(w, 43)).to.equal('ahead');
  });

  it('refuses a revision that does not grow', () => {
    const w = new DeltaWindow<Entry>(4, 0);
    w.push({ revision: 2 });
    expect(() => w.push({ revision: 2 })).to.throw(RangeError, /does not follow 2/);
    expect(() => w.push({ revision: 1 })).to.throw(RangeError);
    expect(() => new DeltaWindow<Entry>(0)).to.throw(RangeError);
  });

  it('reset forgets everything and replays onto the new base', () => {
    const w = new DeltaWindow<Entry>(4, 0);
    for (let r = 1; r <= 3; r++) w.push({ revision: r });
    w.reset(100);
    expect(w.size).to.equal(0);
    expect(revisions(w, 3)).to.equal('too-old');
    w.push({ revision: 101 });
    expect(revisions(w, 100)).to.deep.equal([101]);
  });

  it('matches a plain array reference over many wrap-arounds', () => {
    const capacity = 7;
    const w = new DeltaWindow<Entry>(capacity, 0);
    const all: number[] = [];
    let r = 0;
    for (let step = 0; step < 100; step++) {
      r += 1 + (step % 3);
      w.push({ revision: r });
      all.push(r);
      const kept = all.slice(-capacity);
      const base = all.length > capacity ? all[all.length - capacity - 1] : 0;
      for (let since = base; since <= r; since++) {
        expect(revisions(w, since), `since ${since} at step ${step}`).to.deep.equal(kept.filter((x) => x > since));
      }
      if (base > 0) expect(revisions(w, base - 1)).to.equal('too-old');
    }
  });
});
