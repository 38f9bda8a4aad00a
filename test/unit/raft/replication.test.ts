/**
 * Log replication rules (§5.3, §5.4.2, §7): log matching, overwrite of an
 * uncommitted conflicting suffix, commitment only of current-term entries
 * (Figure 8), fast conflict backtracking, the in-flight window, batching,
 * snapshot install in chunks, and restart from durable storage.
 */
import { expect } from 'chai';
import { Net, bytes } from './net.ts';
import type { Message } from '../../../src/raft/types.ts';
import { describeMessage } from '../../../src/raft/describe.ts';

function appends(msgs: readonly Message[], to: number): Message[] {
  return msgs.filter((m) => m.type === 'AppendEntries' && m.to === to && m.entries.length > 0);
}

/** Lets the cluster without `old` (isolated) elect a leader among the rest; returns it. */
function electOther(net: Net, old: number): number {
  for (let i = 0; i < 200; i++) {
    const l = net.leaders().filter((id) => id !== old);
    if (l.length > 0) return l[0];
    net.tickAll();
  }
  throw new Error('no new leader');
}

describe('raft replication', () => {
  it('replicates proposals in order to every node (log matching)', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    for (const s of ['a', 'b', 'c']) net.core(1).propose(bytes(s));
    net.settle();
    for (const id of [1, 2, 3]) expect(net.node(id).applied).to.deep.equal(['a', 'b', 'c']);
    const last = net.core(1).status.lastIndex;
    for (const id of [2, 3]) {
      for (let i = 1; i <= last; i++) expect(net.core(id).logTerm(i)).to.equal(net.core(1).logTerm(i));
    }
  });

  it('batches proposals made between Readies into one AppendEntries', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    const before = net.delivered.length;
    for (let i = 0; i < 50; i++) net.core(1).propose(bytes(`p${i}`));
    net.settle();
    const sent = appends(net.delivered.slice(before), 2);
    expect(sent).to.have.length(1);
    expect(sent[0].type === 'AppendEntries' && sent[0].entries.length).to.equal(50);
    expect(net.node(3).applied).to.have.length(50);
  });

  it('caps AppendEntries in flight per follower at maxInflightMsgs', () => {
    const net = new Net([1, 2, 3], { maxInflightMsgs: 2, maxEntriesPerMsg: 1 });
    net.elect(1);
    net.cutOneWay(2, 1); // 2's acknowledgements are lost
    const before = net.delivered.length;
    for (let i = 0; i < 10; i++) net.core(1).propose(bytes(`p${i}`));
    net.settle();
    expect(appends(net.delivered.slice(before), 2)).to.have.length(2);
    expect(net.node(3).applied).to.have.length(10); // 3 is unaffected
    net.heal();
    net.tickAll(3);
    expect(net.node(2).applied).to.have.length(10);
  });

  it('overwrites an uncommitted conflicting suffix on a deposed leader', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.isolate(1);
    net.core(1).propose(bytes('lost1'));
    net.core(1).propose(bytes('lost2'));
    net.settle();
    const other = electOther(net, 1);
    net.core(other).propose(bytes('kept'));
    net.settle();
    net.heal();
    net.tickAll(25); // 1 steps down (check-quorum) or hears the new leader
    expect(net.node(1).applied).to.deep.equal(['kept']);
    const last = net.core(other).status.lastIndex;
    for (let i = 1; i <= last; i++) expect(net.core(1).logTerm(i)).to.equal(net.core(other).logTerm(i));
  });

  it('commits only entries of the current term by counting replicas (Figure 8)', () => {
    const net = new Net([1, 2, 3, 4, 5], { preVote: false, checkQuorum: false, maxEntriesPerMsg: 1 });
    net.elect(1); // term 2, no-op at 6
    expect(net.core(1).status.commit).to.equal(6);
    // (a) 1 replicates x (term 2, index 7) to 2 only.
    for (const o of [3, 4, 5]) net.cut(1, o);
    net.core(1).propose(bytes('x'));
    net.settle();
    expect(net.core(2).logTerm(7)).to.equal(2);
    // (b) 5 wins term 3 with 3 and 4 and appends its no-op at 7, which goes nowhere.
    for (const o of [3, 4, 5]) net.cut(2, o);
    net.filter = (m) => m.from === 5 && m.type === 'AppendEntries';
    net.elect(5);
    expect(net.core(5).status.term).to.equal(3);
    expect(net.core(5).logTerm(7)).to.equal(3);
    // (c) 5 is gone; 1 restarts and wins term 4 and copies x to 3: x is on a majority but from term 2.
    net.heal();
    net.isolate(5);
    net.restart(1);
    // Let probes be rejected and x be copied, but hold back the term-4 no-op itself.
    net.filter = (m) => m.type === 'AppendEntries' && net.core(m.to).logTerm(7) === 2 && m.entries.some((e) => e.term === 4);
    net.elect(1);
    expect(net.core(1).status.term).to.equal(4);
    expect(net.core(3).logTerm(7)).to.equal(2);
    expect(net.core(4).logTerm(7)).to.equal(2);
    expect(net.core(1).status.progress?.get(3)?.match).to.equal(7);
    expect(net.core(1).status.commit).to.equal(6);
    // (d) once an entry of term 4 is on a majority, everything before it commits.
    net.filter = undefined;
    net.tick(1);
    expect(net.core(1).status.commit).to.equal(8);
    expect(net.node(3).applied).to.deep.equal(['x']);
  });

  it('backtracks a long conflicting log with a few rejections (conflict hints)', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.isolate(1);
    for (let i = 0; i < 100; i++) net.core(1).propose(bytes(`stale${i}`));
    net.settle();
    const other = electOther(net, 1);
    for (let i = 0; i < 100; i++) net.core(other).propose(bytes(`new${i}`));
    net.settle();
    net.heal();
    const before = net.delivered.length;
    net.tickAll(25);
    const rejects = net.delivered.slice(before).filter((m) => m.type === 'AppendEntriesResponse' && m.reject && m.from === 1);
    expect(rejects.length).to.be.at.most(3, rejects.map(describeMessage).join('\n'));
    expect(net.node(1).applied).to.have.length(100);
    expect(net.node(1).applied[99]).to.equal('new99');
  });

  it('sends a snapshot in chunks to a follower behind the compacted log', () => {
    const net = new Net([1, 2, 3], { snapshotChunkBytes: 16 });
    net.elect(1);
    net.isolate(3);
    for (let i = 0; i < 20; i++) net.core(1).propose(bytes(`v${i}`));
    net.settle();
    const snap = net.snapshotAndCompact(1);
    expect(net.core(1).status.firstIndex).to.equal(snap.meta.index + 1);
    net.core(1).propose(bytes('after'));
    net.settle();
    net.heal();
    const before = net.delivered.length;
    net.tickAll(3);
    const chunks = net.delivered.slice(before).filter((m) => m.type === 'InstallSnapshot' && m.to === 3);
    expect(chunks.length).to.be.greaterThan(2);
    expect(net.node(3).snapshotsInstalled.map((s) => s.meta.index)).to.deep.equal([snap.meta.index]);
    expect(net.node(3).applied).to.deep.equal(net.node(1).applied);
    expect(net.core(3).status.conf).to.deep.equal({ voters: [1, 2, 3], learners: [] });
  });

  it('resends a lost snapshot chunk on the next heartbeat', () => {
    const net = new Net([1, 2, 3], { snapshotChunkBytes: 16 });
    net.elect(1);
    net.isolate(3);
    for (let i = 0; i < 10; i++) net.core(1).propose(bytes(`v${i}`));
    net.settle();
    net.snapshotAndCompact(1);
    net.heal();
    let dropped = 0;
    net.filter = (m) => m.type === 'InstallSnapshot' && m.offset === 32 && dropped++ === 0;
    net.tickAll(5);
    expect(dropped).to.be.greaterThan(1);
    expect(net.node(3).applied).to.deep.equal(net.node(1).applied);
  });

  it('restarts from durable storage with its log and vote', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    for (const s of ['a', 'b']) net.core(1).propose(bytes(s));
    net.settle();
    const before = net.core(2).status;
    net.restart(2);
    const after = net.core(2).status;
    expect([after.term, after.vote, after.lastIndex, after.commit]).to.deep.equal([before.term, before.vote, before.lastIndex, before.commit]);
    net.settle();
    expect(net.node(2).applied).to.deep.equal(['a', 'b']); // re-applied from the log
    net.core(1).propose(bytes('c'));
    net.settle();
    expect(net.node(2).applied).to.deep.equal(['a', 'b', 'c']);
  });

  it('a pipelined leader: followers commit its entry before its own persist; it counts itself only once persisted()', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    const leader = net.core(1);
    leader.propose(bytes('a'));
    const rd = leader.ready();
    const e = rd.entries[rd.entries.length - 1];
    expect(e).to.not.equal(undefined);
    leader.advance(rd, false); // persist started, not finished
    expect(leader.persistedIndex).to.be.lessThan(e.index);
    // Only one follower acknowledges: with the leader's copy not durable, that is no quorum.
    for (const m of rd.messages.filter((x) => x.to === 2)) net.core(2).step(m);
    const f2 = net.core(2).ready();
    net.core(2).advance(f2);
    for (const m of f2.messages) leader.step(m);
    expect(leader.status.commit).to.be.lessThan(e.index);
    // The second follower's acknowledgement commits it: handed out to apply before the leader's fsync.
    for (const m of rd.messages.filter((x) => x.to === 3)) net.core(3).step(m);
    const f3 = net.core(3).ready();
    net.core(3).advance(f3);
    for (const m of f3.messages) leader.step(m);
    expect(leader.status.commit).to.equal(e.index);
    const next = leader.ready();
    expect(next.committedEntries.map((x) => x.index)).to.include(e.index);
    leader.advance(next, false);
    expect(leader.persistedIndex).to.be.lessThan(e.index);
    // The fsync returns; a report for an entry the log no longer holds would be ignored.
    leader.persisted(e.index + 5, e.term);
    expect(leader.persistedIndex).to.be.lessThan(e.index);
    leader.persisted(e.index, e.term);
    expect(leader.persistedIndex).to.equal(e.index);
    expect(leader.status.progress?.get(1)?.match).to.equal(e.index);
  });

  it('a crash before fsync loses that Ready but nothing acknowledged', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.core(1).propose(bytes('a'));
    net.settle();
    // 3 receives 'b' but crashes before its fsync: the write is lost and was never acknowledged.
    net.isolate(3);
    const core3 = net.core(3);
    core3.step({ type: 'AppendEntries', from: 1, to: 3, term: core3.status.term, prevLogIndex: core3.status.lastIndex, prevLogTerm: core3.logTerm(core3.status.lastIndex) ?? 0, entries: [{ term: core3.status.term, index: core3.status.lastIndex + 1, type: 'normal', data: bytes('b') }], commit: 0 });
    const rd = core3.ready();
    expect(rd.entries).to.have.length(1);
    net.node(3).storage.write(rd); // no fsync: the crash comes first
    const lastBefore = core3.status.lastIndex;
    net.restart(3);
    expect(net.core(3).status.lastIndex).to.equal(lastBefore - 1);
    net.heal();
    net.core(1).propose(bytes('c'));
    net.tickAll(3);
    expect(net.node(3).applied).to.deep.equal(['a', 'c']);
  });
});
