/**
 * The one-line describe() forms used in logs, and the named bounds
 * (maxBytesPerMsg, maxPendingReads) as observable behaviour.
 */
import { expect } from 'chai';
import { Net, bytes } from './net.ts';
import { describeMessage, describeReady } from '../../../src/raft/describe.ts';

describe('raft describe and bounds', () => {
  it('prints an election and its first append as stable lines', () => {
    const net = new Net([1, 2, 3]);
    const before = net.delivered.length;
    net.elect(1);
    const lines = net.delivered.slice(before).filter((m) => m.from === 1 || m.to === 1).slice(0, 6).map(describeMessage);
    expect(lines).to.deep.equal([
      '1->2 PreVote term=2 last=1/3',
      '1->3 PreVote term=2 last=1/3',
      '2->1 PreVoteResponse term=2 granted',
      '3->1 PreVoteResponse term=2 granted',
      '1->2 RequestVote term=2 last=1/3',
      '1->3 RequestVote term=2 last=1/3',
    ]);
    expect(net.core(1).describe()).to.equal('1 leader term=2 vote=1 leader=1 log=1..4 commit=4 applied=4 voters=(1 2 3)');
    net.core(1).propose(bytes('hello'));
    const rd = net.core(1).ready();
    expect(describeReady(rd)).to.equal('Ready{entries=1@5 messages=2}');
    expect(describeMessage(rd.messages[0])).to.equal('1->2 AppendEntries term=2 prev=2/4 commit=4 entries=[2/5 "hello"]');
    net.core(1).advance(rd);
  });

  it('splits a backlog by maxBytesPerMsg but always sends at least one entry', () => {
    const net = new Net([1, 2, 3], { maxBytesPerMsg: 10 });
    net.elect(1);
    net.isolate(3);
    for (let i = 0; i < 6; i++) net.core(1).propose(bytes('0123456')); // 7 bytes each
    net.settle();
    net.heal();
    const before = net.delivered.length;
    net.tickAll(3);
    const sizes = net.delivered.slice(before).flatMap((m) => (m.type === 'AppendEntries' && m.to === 3 && m.entries.length > 0 ? [m.entries.length] : []));
    expect(sizes.every((n) => n === 1)).to.equal(true, `batches ${sizes}`);
    expect(net.node(3).applied).to.have.length(6);
  });

  it('refuses reads beyond maxPendingReads as a value', () => {
    const net = new Net([1, 2, 3], { maxPendingReads: 2 });
    net.elect(1);
    net.isolate(1);
    expect(net.core(1).readIndex(bytes('r1')).ok).to.equal(true);
    expect(net.core(1).readIndex(bytes('r2')).ok).to.equal(true);
    expect(net.core(1).readIndex(bytes('r3'))).to.deep.equal({ ok: false, reason: 'tooManyPendingReads', leader: 1 });
  });
});
