/**
 * The deterministic Raft simulation (test/sim): 300 seeds, each a faulty phase
 * (partitions incl. one-way, drops, duplicates, reordering, crashes losing
 * unsynced writes, snapshots, membership changes, leadership transfers) then a
 * liveness phase; safety checked after every event, acknowledged writes must
 * survive, and the client history must be linearizable. A failure names the
 * seed and the command that replays it. More seeds: `npm run sim -- --seeds 5000`.
 */
import { expect } from 'chai';
import { replayCommand, runSeed } from '../../sim/simulator.ts';

const SEEDS = 300;
const PER_CASE = 50;

describe('raft simulation', function () {
  this.timeout(120_000);

  for (let from = 1; from <= SEEDS; from += PER_CASE) {
    const to = Math.min(SEEDS, from + PER_CASE - 1);
    it(`seeds ${from}..${to}: safe, live, no acknowledged write lost, linearizable`, () => {
      const failures: string[] = [];
      let ops = 0;
      for (let seed = from; seed <= to; seed++) {
        const r = runSeed(seed);
        ops += r.stats.ops;
        if (!r.ok) failures.push(`seed ${seed}: ${r.failure}\n    replay: ${replayCommand(seed)}`);
      }
      expect(failures, failures.join('\n')).to.deep.equal([]);
      expect(ops).to.be.greaterThan(PER_CASE * 20); // the workload really ran
    });
  }

  it('replays a seed identically', () => {
    const a = runSeed(7);
    const b = runSeed(7);
    expect(a.stats).to.deep.equal(b.stats);
    expect(a.stats.elections).to.be.greaterThan(0);
    expect(a.stats.events).to.be.greaterThan(1000);
  });
});
