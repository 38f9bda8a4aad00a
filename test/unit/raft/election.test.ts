/**
 * Leader election rules of the Raft paper (§5.2, §5.4.1) plus etcd practice:
 * pre-vote (§9.6 of the thesis), check-quorum and leader stickiness.
 */
import { expect } from 'chai';
import { Net } from './net.ts';
import { LEADER_LOST_STAGGER_TICKS, RaftCore } from '../../../src/raft/core.ts';
import { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { defaultRaftConfig } from '../../../src/raft/types.ts';
import { ValidationError } from '../../../src/common/errors.ts';

function roles(net: Net): string {
  return [...net.nodes.values()].map((n) => `${n.core.id}:${n.core.status.role}@${n.core.status.term}`).join(' ');
}

describe('raft election', () => {
  it('elects one leader; the others follow it in the same term', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    expect(roles(net)).to.equal('1:leader@2 2:follower@2 3:follower@2');
    expect(net.core(2).status.leader).to.equal(1);
    expect(net.core(3).status.leader).to.equal(1);
  });

  it('a single-node cluster elects itself and commits alone', () => {
    const net = new Net([1]);
    net.elect(1);
    expect(net.core(1).status.role).to.equal('leader');
    const r = net.core(1).propose(new TextEncoder().encode('x'));
    expect(r.ok).to.equal(true);
    net.settle();
    expect(net.node(1).applied).to.deep.equal(['x']);
  });

  it('split votes elect nobody, then a later election succeeds with a higher term', () => {
    const net = new Net([1, 2, 3, 4], { preVote: false, checkQuorum: false });
    // 1 can reach only 3; 2 can reach only 4.
    net.cut(1, 2);
    net.cut(1, 4);
    net.cut(2, 3);
    net.cut(3, 4);
    for (let i = 0; i < 40 && net.core(1).status.role !== 'candidate'; i++) net.tick(1);
    for (let i = 0; i < 40 && net.core(2).status.role !== 'candidate'; i++) net.tick(2);
    expect(net.core(1).status.role).to.equal('candidate');
    expect(net.core(2).status.role).to.equal('candidate');
    expect(net.leaders()).to.deep.equal([]);
    const splitTerm = net.core(1).status.term;
    net.heal();
    for (let i = 0; i < 200 && net.leaders().length === 0; i++) net.tickAll();
    expect(net.leaders()).to.have.length(1);
    expect(net.core(net.leaders()[0]).status.term).to.be.greaterThan(splitTerm);
  });

  it('drops stale-term messages as values, and a leader steps down on a higher term', () => {
    const net = new Net([1, 2, 3], { preVote: false, checkQuorum: false });
    net.elect(1);
    const term = net.core(1).status.term;
    const stale = net.core(2).step({ type: 'Heartbeat', from: 3, to: 2, term: term - 1, commit: 0, ctx: new Uint8Array(0) });
    expect(stale).to.deep.equal({ ok: false, reason: `stale term ${term - 1} < ${term}` });
    const wrong = net.core(2).step({ type: 'TimeoutNow', from: 1, to: 9, term });
    expect(wrong.ok).to.equal(false);
    const bad = net.core(2).step({ type: 'AppendEntries', from: 1, to: 2, term, prevLogIndex: 4, prevLogTerm: 2, commit: 0, entries: [{ term, index: 9, type: 'normal', data: new Uint8Array(0) }] });
    expect(bad).to.deep.equal({ ok: false, reason: 'malformed AppendEntries from 1: entries[0].index: expected 5, got 9' });
    net.core(1).step({ type: 'AppendEntriesResponse', from: 2, to: 1, term: term + 5, reject: true, index: 0, hintIndex: 0, hintTerm: 0 });
    expect(net.core(1).status.role).to.equal('follower');
    expect(net.core(1).status.term).to.equal(term + 5);
  });

  it('a candidate with a shorter log does not get votes (election restriction §5.4.1)', () => {
    const net = new Net([1, 2, 3], { preVote: false, checkQuorum: false });
    net.elect(1);
    net.cut(1, 3);
    net.cut(2, 3);
    net.core(1).propose(new TextEncoder().encode('a'));
    net.settle();
    net.heal();
    net.isolate(1);
    // 3 lacks 'a': 2 rejects it; 2 may win instead.
    for (let i = 0; i < 40 && net.core(3).status.role !== 'candidate'; i++) net.tick(3);
    net.settle();
    expect(net.core(3).status.role).to.not.equal('leader');
    net.elect(2);
    expect(net.core(2).status.role).to.equal('leader');
  });

  it('pre-vote keeps a partitioned node from inflating its term and disrupting the leader', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    const term = net.core(1).status.term;
    net.isolate(3);
    net.tick(3, 100);
    expect(net.core(3).status.term).to.equal(term);
    expect(net.core(3).status.role).to.equal('preCandidate');
    net.heal();
    net.tickAll(3);
    expect(net.leaders()).to.deep.equal([1]);
    expect(net.core(1).status.term).to.equal(term);
  });

  it('without pre-vote the same partition inflates the term (contrast)', () => {
    const net = new Net([1, 2, 3], { preVote: false, checkQuorum: false });
    net.elect(1);
    const term = net.core(1).status.term;
    net.isolate(3);
    net.tick(3, 100);
    expect(net.core(3).status.term).to.be.greaterThan(term + 2);
  });

  it('check-quorum: a leader cut off from the majority steps down within an election timeout', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.isolate(1);
    net.tick(1, 2 * defaultRaftConfig.electionTicks);
    expect(net.core(1).status.role).to.equal('follower');
    expect(net.core(1).status.leader).to.equal(0);
  });

  it('leader stickiness: followers with a live leader ignore a disruptive RequestVote', () => {
    const net = new Net([1, 2, 3], { preVote: false, checkQuorum: true });
    net.elect(1);
    const term = net.core(1).status.term;
    net.cut(1, 3);
    for (let i = 0; i < 60; i++) net.tickAll();
    expect(net.core(3).status.term).to.be.greaterThan(term); // 3 campaigns in vain
    expect(net.core(2).status.term).to.equal(term);
    expect(net.core(2).status.leader).to.equal(1);
    expect(net.leaders()).to.deep.equal([1]);
  });

  it("a follower campaigns only after its peers' leases expired, whatever the tick phase: one pre-vote round elects it", () => {
    // Every follower heard the leader's last heartbeat; 3's ticks run one tick behind 2's (the
    // worst phase). Whenever 2 campaigns first, 3 has seen a full lease pass and grants.
    for (let seed = 1; seed <= 40; seed++) {
      const net = new Net([1, 2, 3], { random: new SeededRandom(seed) });
      net.elect(1);
      const term = net.core(1).status.term;
      net.isolate(1);
      let first: number | undefined;
      for (let t = 0; t < 4 * defaultRaftConfig.electionTicks && net.leaders().filter((l) => l !== 1).length === 0; t++) {
        net.tick(2);
        if (first === undefined && net.core(2).status.role !== 'follower') first = 2;
        if (net.leaders().filter((l) => l !== 1).length > 0) break;
        net.tick(3);
        if (first === undefined && net.core(3).status.role !== 'follower') first = 3;
      }
      const winner = net.leaders().filter((l) => l !== 1);
      expect(winner, `seed ${seed}`).to.deep.equal([first]);
      expect(net.core(winner[0] as number).status.term, `seed ${seed}: one election`).to.equal(term + 1);
    }
  });

  it("losing the leader's connection: a follower campaigns within a couple of ticks and its peer grants the pre-vote", () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    const term = net.core(1).status.term;
    net.isolate(1); // 1 was SIGKILLed: both followers' connections from it close
    net.core(2).peerConnectionLost(1);
    net.core(3).peerConnectionLost(1);
    let ticks = 0;
    while (net.leaders().filter((l) => l !== 1).length === 0 && ticks < 10) {
      net.tick(2);
      net.tick(3);
      ticks++;
    }
    expect(ticks).to.equal(1); // 2, the first in turn, wins at its next tick
    expect(net.leaders().filter((l) => l !== 1)).to.deep.equal([2]);
    expect(net.core(2).status.term).to.equal(term + 1);
  });

  it('after losing the leader the survivors campaign in turn, so they never split the vote', () => {
    const net = new Net([1, 2, 3, 4, 5]);
    net.elect(1);
    const term = net.core(1).status.term;
    net.isolate(1);
    // The first in turn is cut off from the others too: 3 goes next, LEADER_LOST_STAGGER_TICKS later.
    net.cut(2, 3);
    net.cut(2, 4);
    net.cut(2, 5);
    for (const id of [2, 3, 4, 5]) net.core(id).peerConnectionLost(1);
    let ticks = 0;
    while (net.leaders().filter((l) => l !== 1).length === 0 && ticks < 20) {
      for (const id of [2, 3, 4, 5]) net.tick(id);
      ticks++;
    }
    expect(ticks).to.equal(1 + LEADER_LOST_STAGGER_TICKS);
    expect(net.leaders().filter((l) => l !== 1)).to.deep.equal([3]);
    expect(net.core(3).status.term).to.equal(term + 1); // one election, no split
  });

  it("a spurious connection loss disrupts nothing: the other follower defends the live leader's lease", () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    const term = net.core(1).status.term;
    net.cut(1, 2); // 2's link from 1 broke; 1 is alive and still heard by 3
    net.core(2).peerConnectionLost(1);
    net.core(2).peerConnectionLost(3); // not its leader: ignored
    for (let i = 0; i < 3; i++) {
      net.tick(1);
      net.tick(2);
      net.tick(3);
    }
    expect(net.core(2).status.role).to.equal('preCandidate'); // it tried...
    expect(net.leaders()).to.deep.equal([1]); // ...in vain
    expect(net.core(1).status.term).to.equal(term);
    expect(net.core(3).status.leader).to.equal(1);
    net.heal();
    net.tickAll(2);
    expect(net.core(2).status.role).to.equal('follower');
    expect(net.core(2).status.leader).to.equal(1);
    expect(net.core(2).status.term).to.equal(term);
  });

  it('rejects a bad config or bootstrap membership with the field path', () => {
    const storage = new MemoryStorage({ voters: [1], learners: [] });
    const bad = { ...defaultRaftConfig, id: 1, random: new SeededRandom(1), heartbeatTicks: 5, electionTicks: 5 };
    expect(() => new RaftCore(bad, storage.initialState())).to.throw(ValidationError, 'raftConfig.electionTicks: expected an integer >= 6, got 5');
    const good = { ...defaultRaftConfig, id: 1, random: new SeededRandom(1) };
    const dup = { hardState: { term: 0, vote: 0, commit: 0 }, entries: [], conf: { voters: [1, 2], learners: [2] } };
    expect(() => new RaftCore(good, dup)).to.throw(ValidationError, 'initialState.conf.learners[0]: expected an id listed once, got 2');
  });
});
