/**
 * The deterministic Raft simulation (test/sim) over the production RaftNode
 * shell: 240 seeds, each a faulty phase (partitions incl. one-way, drops,
 * duplicates, reordering, crashes losing unsynced writes, slow fsyncs (so
 * leaders apply entries their followers committed before their own fsync
 * returns), snapshots, membership changes, leadership transfers) then a
 * liveness phase; safety
 * checked after every event, acknowledged writes must survive, and the client
 * history must be linearizable. A failure names the seed and the command that
 * replays it. More seeds: `npm run sim -- --seeds 5000`.
 *
 * The suite also proves it simulates: every fault kind must have happened in
 * each batch of seeds (so a simulator that silently stopped injecting faults
 * fails here), the checkers must fire on deliberately broken variants, and a
 * seed must replay to the same trace digest.
 */
import { expect } from 'chai';
import { FAULT_KINDS, missingFaults, replayCommand, runSeed } from '../../sim/simulator.ts';
import type { BrokenVariant, FailureKind, SimResult, SimStats } from '../../sim/simulator.ts';

const SEEDS = 240;
const PER_CASE = 40;

/**
 * Seeds beyond SEEDS that once found a bug in the shell, replayed for good:
 *  - 875: a leader's snapshot stepped into the core while a Ready was being persisted;
 *    the shell then tried to snapshot an index the core had already dropped and
 *    stopped on a RaftAssertionError (node.ts takeSnapshot).
 */
const REGRESSION_SEEDS = [875];

/**
 * Seeds a broken variant gets to fail in. Roughly one seed in ten hits a scenario that
 * exposes either bug (a crash losing an unsynced vote or ack while a competing election
 * runs; a partitioned leader serving a read), and which seeds do shifts with any change to
 * election timing — so the budget is a few times that rate, not the first lucky seed.
 */
const BROKEN_SEEDS = 40;

/**
 * Runs seeds from 1 until one fails by the check under test (`kind`). A broken variant may
 * also trip another checker first (lost acknowledged writes also make a history
 * non-linearizable); that seed is skipped, since the point is that *this* checker fires.
 */
async function firstFailure(broken: BrokenVariant, maxSeeds: number, kind: FailureKind): Promise<SimResult | undefined> {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const r = await runSeed(seed, { broken });
    if (!r.ok && r.failureKind === kind) return r;
  }
  return undefined;
}

describe('raft simulation', function () {
  this.timeout(120_000);

  for (let from = 1; from <= SEEDS; from += PER_CASE) {
    const to = Math.min(SEEDS, from + PER_CASE - 1);
    it(`seeds ${from}..${to}: safe, live, no acknowledged write lost, linearizable, every fault kind exercised`, async () => {
      const failures: string[] = [];
      const stats: SimStats[] = [];
      for (let seed = from; seed <= to; seed++) {
        const r = await runSeed(seed);
        stats.push(r.stats);
        if (!r.ok) failures.push(`seed ${seed} (${r.failureKind}): ${r.failure}\n    replay: ${replayCommand(seed)}`);
      }
      expect(failures, failures.join('\n')).to.deep.equal([]);
      expect(missingFaults(stats), 'fault kinds that never happened in these seeds').to.deep.equal([]);
      expect(stats.reduce((n, s) => n + s.ops, 0)).to.be.greaterThan(PER_CASE * 20); // the workload really ran
    });
  }

  it(`regression seeds ${REGRESSION_SEEDS.join(', ')} pass`, async () => {
    for (const seed of REGRESSION_SEEDS) {
      const r = await runSeed(seed);
      expect(r.ok, `seed ${seed} (${r.failureKind}): ${r.failure}`).to.equal(true);
    }
  });

  it('without fault injection the coverage check fails: no fault kind happens', async () => {
    const stats: SimStats[] = [];
    for (let seed = 1; seed <= 3; seed++) {
      const r = await runSeed(seed, { faults: false });
      expect(r.ok, r.failure).to.equal(true);
      stats.push(r.stats);
    }
    expect(missingFaults(stats)).to.deep.equal([...FAULT_KINDS]);
  });

  it('replays a seed identically: same trace digest, same stats', async () => {
    const a = await runSeed(7, { digestMessages: true });
    const b = await runSeed(7, { digestMessages: true });
    const other = await runSeed(8, { digestMessages: true });
    expect(a.digest).to.equal(b.digest);
    expect(a.stats).to.deep.equal(b.stats);
    expect(other.digest).to.not.equal(a.digest);
    expect(a.stats.elections).to.be.greaterThan(0);
    expect(a.stats.events).to.be.greaterThan(1000);
  });

  describe('the checkers fire on broken variants', () => {
    const safetyProperties = /election safety|leader completeness|state-machine safety|log matching/;

    it('SafetyChecker: storage that acknowledges writes before fsyncing them', async () => {
      const r = await firstFailure('ackBeforeFsync', BROKEN_SEEDS, 'safety');
      expect(r, 'no seed failed').to.not.equal(undefined);
      expect(r?.failureKind).to.equal('safety' satisfies FailureKind);
      expect(r?.failure).to.match(safetyProperties);
    });

    it('linearizability: a leader serving reads without the ReadIndex barrier', async () => {
      const r = await firstFailure('readsWithoutBarrier', BROKEN_SEEDS, 'linearizability');
      expect(r, 'no seed failed').to.not.equal(undefined);
      expect(r?.failureKind).to.equal('linearizability' satisfies FailureKind);
      expect(r?.failure).to.match(/not linearizable/);
    });
  });
});
