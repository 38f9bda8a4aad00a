/**
 * Quorum maths checked against a deliberately simple reference on random inputs.
 */
import { expect } from 'chai';
import { computeCommittedIndex, computeVoteOutcome, hasQuorum, quorumSize } from '../../../src/raft/quorum.ts';
import { SeededRandom, randomInt } from '../../../src/common/random.ts';

/** Reference: the largest index i such that more than half the voters have match >= i. */
function refCommitted(matches: number[]): number {
  let best = 0;
  for (const candidate of matches) {
    const n = matches.filter((m) => m >= candidate).length;
    if (n * 2 > matches.length && candidate > best) best = candidate;
  }
  return best;
}

describe('raft quorum', () => {
  it('committed index equals the brute-force reference', () => {
    const rng = new SeededRandom(42);
    for (let trial = 0; trial < 500; trial++) {
      const n = randomInt(rng, 1, 8);
      const voters = Array.from({ length: n }, (_, k) => k + 1);
      const matches = voters.map(() => randomInt(rng, 0, 20));
      expect(computeCommittedIndex(voters, (v) => matches[v - 1])).to.equal(refCommitted(matches), `matches=${matches}`);
    }
  });

  it('vote outcome: won needs a majority of grants, lost when a majority is impossible', () => {
    const rng = new SeededRandom(7);
    for (let trial = 0; trial < 500; trial++) {
      const n = randomInt(rng, 1, 8);
      const voters = Array.from({ length: n }, (_, k) => k + 1);
      const votes = new Map<number, boolean>();
      for (const v of voters) {
        const r = randomInt(rng, 0, 3);
        if (r < 2) votes.set(v, r === 0);
      }
      const granted = [...votes.values()].filter((x) => x).length;
      const rejected = [...votes.values()].filter((x) => !x).length;
      const expected = granted * 2 > n ? 'won' : (n - rejected) * 2 <= n ? 'lost' : 'pending';
      expect(computeVoteOutcome(voters, votes)).to.equal(expected);
      expect(hasQuorum(voters, (v) => votes.get(v) === true)).to.equal(granted * 2 > n);
    }
    expect([1, 2, 3, 4, 5].map(quorumSize)).to.deep.equal([1, 2, 2, 3, 3]);
  });
});
