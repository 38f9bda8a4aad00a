/**
 * Membership change one server at a time (learners, promotion, removal),
 * leadership transfer, and ReadIndex linearizable reads.
 */
import { expect } from 'chai';
import { Net, bytes } from './net.ts';
import { decodeConfChange, encodeConfChange } from '../../../src/raft/types.ts';
import { ValidationError } from '../../../src/common/errors.ts';

describe('raft membership', () => {
  it('adds a learner that receives the log but never campaigns, then promotes it', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.core(1).propose(bytes('a'));
    net.settle();
    net.add(4);
    const r = net.core(1).proposeConfChange({ type: 'addLearner', node: 4 });
    expect(r.ok).to.equal(true);
    // Only one change may be pending.
    expect(net.core(1).proposeConfChange({ type: 'addVoter', node: 4 })).to.deep.include({ ok: false, reason: 'confChangePending' });
    net.settle();
    net.tickAll(2);
    expect(net.node(4).applied).to.deep.equal(['a']);
    expect(net.core(4).status.isLearner).to.equal(true);
    expect(net.core(1).status.conf).to.deep.equal({ voters: [1, 2, 3], learners: [4] });
    const term = net.core(4).status.term;
    net.isolate(4);
    net.tick(4, 100);
    expect(net.core(4).status.role).to.equal('follower');
    expect(net.core(4).status.term).to.equal(term);
    net.heal();
    expect(net.core(1).proposeConfChange({ type: 'addVoter', node: 4 }).ok).to.equal(true);
    net.tickAll(2);
    for (const id of [1, 2, 3, 4]) expect(net.core(id).status.conf).to.deep.equal({ voters: [1, 2, 3, 4], learners: [] });
    // With 4 voters, the quorum is 3: cutting off two nodes stops commits.
    net.isolate(3);
    net.isolate(4);
    const before = net.core(1).status.commit;
    net.core(1).propose(bytes('b'));
    net.settle();
    expect(net.core(1).status.commit).to.equal(before);
  });

  it('removes a voter; the rest commit without it, and a removed leader steps down', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    expect(net.core(1).proposeConfChange({ type: 'removeNode', node: 3 }).ok).to.equal(true);
    net.tickAll(2);
    expect(net.core(2).status.conf.voters).to.deep.equal([1, 2]);
    net.isolate(3);
    net.core(1).propose(bytes('without3'));
    net.settle();
    expect(net.node(2).applied).to.deep.equal(['without3']);
    expect(net.core(1).proposeConfChange({ type: 'removeNode', node: 1 }).ok).to.equal(true);
    net.tickAll(2);
    expect(net.core(1).status.role).to.equal('follower');
    net.tickAll(50);
    expect(net.leaders()).to.deep.equal([2]);
    expect(net.core(2).status.conf.voters).to.deep.equal([2]);
  });

  it('answers invalid changes as values', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    expect(net.core(1).proposeConfChange({ type: 'addVoter', node: 2 })).to.deep.include({ ok: false, reason: 'invalid' });
    expect(net.core(1).proposeConfChange({ type: 'removeNode', node: 9 })).to.deep.include({ ok: false, reason: 'invalid' });
    expect(net.core(2).proposeConfChange({ type: 'addLearner', node: 9 })).to.deep.equal({ ok: false, reason: 'notLeader', leader: 1 });
  });

  it('round-trips a ConfChange and rejects malformed bytes with a path', () => {
    const cc = { type: 'addVoter' as const, node: 70000, context: bytes('127.0.0.1:5000') };
    expect(decodeConfChange(encodeConfChange(cc))).to.deep.equal(cc);
    expect(() => decodeConfChange(new Uint8Array([9, 0, 0, 0, 1]))).to.throw(ValidationError, 'confChange.type');
    expect(() => decodeConfChange(new Uint8Array([1]))).to.throw(ValidationError, 'confChange: expected at least 5 bytes');
  });
});

describe('raft leadership transfer', () => {
  it('hands leadership to an up-to-date follower; proposals are refused meanwhile', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.isolate(1);
    expect(net.core(1).transferLeadership(2).ok).to.equal(true);
    expect(net.core(1).propose(bytes('x'))).to.deep.equal({ ok: false, reason: 'transferring', leader: 1 });
    net.heal();
    net.settle();
    expect(net.leaders()).to.deep.equal([2]);
    expect(net.core(1).status.leader).to.equal(2);
  });

  it('brings a lagging target up to date first, then it wins despite stickiness', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.isolate(3);
    for (let i = 0; i < 5; i++) net.core(1).propose(bytes(`v${i}`));
    net.settle();
    net.heal();
    expect(net.core(1).transferLeadership(3).ok).to.equal(true);
    net.settle();
    expect(net.leaders()).to.deep.equal([3]);
    net.core(3).propose(bytes('after'));
    net.settle();
    expect(net.node(2).applied).to.deep.equal(['v0', 'v1', 'v2', 'v3', 'v4', 'after']);
  });

  it('abandons a transfer after an election timeout when the target is unreachable', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.isolate(3);
    net.core(1).transferLeadership(3);
    net.tickAll(12);
    expect(net.core(1).status.leadTransferee).to.equal(0);
    expect(net.core(1).propose(bytes('ok')).ok).to.equal(true);
  });
});

describe('raft ReadIndex', () => {
  it('the leader answers after a heartbeat quorum with its commit index', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.core(1).propose(bytes('a'));
    net.settle();
    expect(net.core(1).readIndex(bytes('r1')).ok).to.equal(true);
    net.settle();
    expect(net.node(1).readStates).to.deep.equal([{ index: net.core(1).status.commit, requestCtx: bytes('r1') }]);
  });

  it('a follower forwards the request and gets the leader commit index', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.core(1).propose(bytes('a'));
    net.settle();
    expect(net.core(3).readIndex(bytes('f1')).ok).to.equal(true);
    net.settle();
    expect(net.node(3).readStates).to.deep.equal([{ index: net.core(1).status.commit, requestCtx: bytes('f1') }]);
  });

  it('a leader cut off from the majority cannot confirm a read', () => {
    const net = new Net([1, 2, 3]);
    net.elect(1);
    net.isolate(1);
    net.core(1).readIndex(bytes('r'));
    net.tick(1, 3);
    expect(net.node(1).readStates).to.deep.equal([]);
  });

  it('a new leader holds reads until it has committed an entry of its term', () => {
    const net = new Net([1, 2, 3]);
    net.filter = (m) => m.type === 'AppendEntriesResponse'; // the no-op cannot commit
    net.elect(1);
    expect(net.core(1).status.role).to.equal('leader');
    expect(net.core(1).readIndex(bytes('early')).ok).to.equal(true);
    net.tickAll(3); // heartbeats are answered, but the leader's commit index may still be stale
    expect(net.node(1).readStates).to.deep.equal([]);
    net.filter = undefined;
    net.tickAll(2);
    const noopIndex = net.core(1).status.lastIndex;
    expect(net.core(1).status.commit).to.equal(noopIndex);
    expect(net.node(1).readStates).to.deep.equal([{ index: noopIndex, requestCtx: bytes('early') }]);
  });

  it('a follower without a known leader refuses the read', () => {
    const net = new Net([1, 2, 3]);
    expect(net.core(2).readIndex(bytes('x'))).to.deep.equal({ ok: false, reason: 'notLeader', leader: 0 });
  });
});
