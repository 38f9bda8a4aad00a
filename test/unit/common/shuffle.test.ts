/**
 * `shuffle` is the simulator's Fisher-Yates shuffle: a permutation of its
 * input, the same for the same seed, and uniform — every ordering of three
 * items about equally often, which a random-comparator sort does not give.
 */
import { expect } from 'chai';
import { SeededRandom, shuffle } from '../../../src/common/random.ts';

describe('shuffle (Fisher-Yates)', () => {
  it('returns a permutation, the same one for the same seed', () => {
    const a = shuffle(new SeededRandom(42), [1, 2, 3, 4, 5, 6, 7, 8]);
    const b = shuffle(new SeededRandom(42), [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(a).to.deep.equal(b);
    expect([...a].sort((x, y) => x - y)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('gives each ordering of three items about one sixth of the time', () => {
    const rng = new SeededRandom(7);
    const counts = new Map<string, number>();
    const runs = 60_000;
    for (let i = 0; i < runs; i++) {
      const k = shuffle(rng, ['a', 'b', 'c']).join('');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).to.equal(6);
    for (const [order, n] of counts) expect(Math.abs(n / runs - 1 / 6), order).to.be.lessThan(0.01);
  });
});
