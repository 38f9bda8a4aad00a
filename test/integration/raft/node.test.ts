/**
 * RaftNode's promises and errors on an in-process MemoryNetwork with real
 * file storage and a ManualClock (time moves only when the test moves it, so
 * a loaded machine cannot cause a spurious election): proposals lost to a
 * leader change are rejected rather than left hanging, deadlines, shutdown,
 * ReadIndex through a follower, snapshot install for a lagging node, and
 * membership changes.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { CygnetError } from '../../../src/common/errors.ts';
import { FileStorage } from '../../../src/raft/file-storage.ts';
import { MemoryNetwork } from '../../../src/raft/memory-transport.ts';
import { RaftNode } from '../../../src/raft/node.ts';
import { NotLeaderError, ProposalDroppedError, ProposalTimeoutError, ShuttingDownError } from '../../../src/raft/errors.ts';
import { encodeCommand, KvStateMachine, type KvResult } from '../../../examples/kv/state-machine.ts';
import { untilTicks } from './helpers.ts';

const silent = pino({ level: 'silent' });
const TICK_MS = 100;
const enc = (s: string) => new TextEncoder().encode(s);
const put = (key: string, value: string) => encodeCommand({ op: 'put', key, value: enc(value) });

interface Member {
  node: RaftNode<KvResult>;
  sm: KvStateMachine;
}

describe('RaftNode on a memory network (manual clock)', function () {
  this.timeout(60_000);
  let base: string;
  let clock: ManualClock;
  let net: MemoryNetwork;
  let members: Map<number, Member>;
  const peers = new Map([1, 2, 3, 4].map((id) => [id, `node-${id}`]));

  async function start(id: number, opts: { voters?: number[]; snapshotEntries?: number } = {}): Promise<Member> {
    const sm = new KvStateMachine();
    const node = await RaftNode.start<KvResult>({
      id,
      peers: new Map([...peers].filter(([p]) => p === id || (opts.voters ?? [1, 2, 3]).includes(p))),
      bootstrap: { voters: opts.voters ?? [1, 2, 3], learners: [] },
      storage: new FileStorage(join(base, `n${id}`), { log: silent }),
      transport: net.transport(id, `client-${id}`),
      stateMachine: sm,
      tickMs: TICK_MS,
      proposalTimeoutMs: 3000,
      snapshotEntries: opts.snapshotEntries ?? 10_000,
      catchUpEntries: 2,
      clock,
      random: new SeededRandom(id * 7919),
      log: silent,
    });
    const m = { node, sm };
    members.set(id, m);
    return m;
  }

  /** Advances the manual clock tick by tick, letting I/O settle, until `cond` holds. */
  const until = <T>(what: string, cond: () => T | undefined, maxTicks = 200): Promise<T> => untilTicks(clock, TICK_MS, what, cond, maxTicks);

  const leaderOf = (ids: number[]) => () => ids.map((id) => members.get(id)).find((m) => m?.node.status().role === 'leader');

  async function expectRejects(p: Promise<unknown>, cls: new (...a: never[]) => Error): Promise<Error> {
    let err: unknown;
    let settled = false;
    p.then(() => (settled = true), (e: unknown) => { settled = true; err = e; });
    await until('the promise settles', () => (settled ? true : undefined));
    expect(err, 'rejection').to.be.instanceOf(cls);
    return err as Error;
  }

  /** Awaits `p` while moving the clock (a commit may need ticks). */
  async function settle<T>(p: Promise<T>): Promise<T> {
    let v: { ok: T } | undefined;
    let e: unknown;
    p.then((x) => (v = { ok: x }), (x: unknown) => (e = x));
    await until('settled', () => (v !== undefined || e !== undefined ? true : undefined));
    if (e !== undefined) throw e;
    return (v as { ok: T }).ok;
  }

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cygnet-raft-node-'));
    clock = new ManualClock();
    net = new MemoryNetwork();
    members = new Map();
  });

  afterEach(async () => {
    for (const m of members.values()) await m.node.close();
    await rm(base, { recursive: true, force: true });
  });

  it('rejects a proposal whose slot is taken by a new leader, and times out an unreplicated one', async () => {
    for (const id of [1, 2, 3]) await start(id);
    const old = await until('leader', leaderOf([1, 2, 3]));
    await settle(old.node.propose(put('a', '1')));
    net.isolate(old.node.id);
    const lost = old.node.propose(put('a', 'lost'));
    const others = [1, 2, 3].filter((id) => id !== old.node.id);
    const fresh = await until('new leader among the majority', leaderOf(others));
    await settle(fresh.node.propose(put('a', '2')));
    net.heal();
    const err = await expectRejects(lost, ProposalDroppedError);
    expect(err.message).to.match(/proposal at index \d+ dropped/);
    await until('old leader follows', () => (old.sm.get('a')?.toString() === '2' ? true : undefined));

    const l = await until('leader', leaderOf([1, 2, 3]));
    net.isolate(l.node.id);
    const stuck = l.node.propose(put('b', 'never'));
    const timeout = await expectRejects(stuck, ProposalTimeoutError);
    expect((timeout as CygnetError).code).to.equal('CYG_TIMEOUT');
  });

  it('follower refuses writes with the leader identity, serves linearizable reads, and shuts down cleanly', async () => {
    for (const id of [1, 2, 3]) await start(id);
    const l = await until('leader', leaderOf([1, 2, 3]));
    const f = [...members.values()].find((m) => m !== l) as Member;
    await until('follower hears the leader', () => (f.node.status().leaderMeta !== undefined ? true : undefined));
    const notLeader = await expectRejects(f.node.propose(put('x', 'y')), NotLeaderError);
    expect((notLeader as NotLeaderError).leader).to.equal(l.node.id);
    expect((notLeader as NotLeaderError).leaderMeta).to.equal(`client-${l.node.id}`);
    expect((notLeader as NotLeaderError).address).to.equal(`node-${l.node.id}`);

    const w = l.node.propose(put('r', 'v'));
    await until('write applied on leader', () => (l.sm.get('r') !== undefined ? true : undefined));
    const out = await w;
    expect(out.result).to.deep.equal({ op: 'put' });
    expect(out.term).to.equal(l.node.status().term);
    let readDone = false;
    const r = f.node.read().then(() => (readDone = true));
    await until('follower read barrier', () => (readDone ? true : undefined));
    await r;
    expect(f.sm.get('r')?.toString()).to.equal('v');

    const pending = l.node.propose(put('z', 'pending'));
    net.isolate(l.node.id);
    const closing = l.node.close();
    await expectRejects(pending, ShuttingDownError);
    await closing;
    members.delete(l.node.id);
    await expectRejects(l.node.propose(put('q', 'q')), ShuttingDownError);
  });

  it('batches reads: 200 at once on the leader and 200 on a follower share a few ReadIndex rounds', async () => {
    for (const id of [1, 2, 3]) await start(id);
    const l = await until('leader', leaderOf([1, 2, 3]));
    const f = [...members.values()].find((m) => m !== l) as Member;
    await until('follower hears the leader', () => (f.node.status().leaderMeta !== undefined ? true : undefined));
    await l.node.propose(put('k', 'v1'));
    for (const m of [l, f]) {
      const before = net.delivered;
      let done = 0;
      const reads = Array.from({ length: 200 }, () => m.node.read().then(() => done++));
      await until(`200 reads on node ${m.node.id}`, () => (done === 200 ? true : undefined));
      await Promise.all(reads);
      // One round is a heartbeat to each follower and their answers (plus a ReadIndex hop
      // from a follower): a handful of messages, not 4 per read.
      expect(net.delivered - before, `messages for 200 reads on node ${m.node.id}`).to.be.lessThan(24);
      expect(m.sm.get('k')?.toString()).to.equal('v1');
    }
    // A read queued behind a round in flight still sees a write acknowledged before it was issued.
    const first = l.node.read();
    await l.node.propose(put('k', 'v2'));
    await f.node.read();
    expect(f.sm.get('k')?.toString()).to.equal('v2');
    await first;
  });

  it('serves a read issued the moment a node wins, before it has told itself it leads', async () => {
    const m = await start(1, { voters: [1] });
    let read: Promise<void> | undefined;
    // The core leads as soon as the election is won; the node learns it when it next handles the core's
    // output. A read issued in between (as the framework's role check does) is this term's, and stands.
    for (let t = 0; t < 100 && read === undefined; t++) {
      clock.advance(TICK_MS);
      if (m.node.status().role === 'leader') read = m.node.read();
      else await new Promise((resolve) => setImmediate(resolve));
    }
    expect(read, 'the node won an election').to.not.equal(undefined);
    await settle(read as Promise<void>);
    await settle(m.node.propose(put('k', 'v')));
  });

  it('transfers leadership on request', async () => {
    for (const id of [1, 2, 3]) await start(id);
    const l = await until('leader', leaderOf([1, 2, 3]));
    await settle(l.node.propose(put('t', '1')));
    const target = [1, 2, 3].find((id) => id !== l.node.id) as number;
    l.node.transferLeadership(target);
    await until('target leads', () => (members.get(target)?.node.status().role === 'leader' ? true : undefined), 50);
    expect(l.node.status().role).to.equal('follower');
    expect(() => l.node.transferLeadership(target)).to.throw(NotLeaderError);
  });

  it('a node with no known leader says so (CYG_NO_LEADER)', async () => {
    const m = await start(1);
    const err = await expectRejects(m.node.read(), NotLeaderError);
    expect((err as NotLeaderError).code).to.equal('CYG_NO_LEADER');
  });

  it('sends a snapshot to a node that fell behind a compaction, and restores its state machine', async () => {
    for (const id of [1, 2, 3]) await start(id, { snapshotEntries: 10 });
    const l = await until('leader', leaderOf([1, 2, 3]));
    const lagger = [1, 2, 3].find((id) => id !== l.node.id) as number;
    await members.get(lagger)?.node.close();
    members.delete(lagger);
    for (let i = 0; i < 40; i++) await settle(l.node.propose(put(`k${i}`, `v${i}`)));
    // The leader no longer holds the early entries: the lagger can only catch up by snapshot.
    expect(l.node.status().firstIndex).to.be.greaterThan(20);
    const back = await start(lagger, { snapshotEntries: 10 });
    await until('lagger restored from snapshot', () => (back.sm.get('k39')?.toString() === 'v39' ? true : undefined));
    expect(back.sm.get('k0')?.toString()).to.equal('v0');
  });

  it('adds a learner, promotes it to voter and removes a member', async () => {
    for (const id of [1, 2, 3]) await start(id);
    const l = await until('leader', leaderOf([1, 2, 3]));
    await settle(l.node.propose(put('before', 'join')));
    const joiner = await start(4, { voters: [] });
    await settle(l.node.addLearner(4, 'node-4'));
    await until('learner catches up', () => (joiner.sm.get('before')?.toString() === 'join' ? true : undefined));
    expect(l.node.status().conf.learners).to.deep.equal([4]);
    await settle(l.node.addVoter(4, 'node-4'));
    expect(l.node.status().conf.voters).to.deep.equal([1, 2, 3, 4]);
    const victim = [1, 2, 3].find((id) => id !== l.node.id) as number;
    await settle(l.node.removeNode(victim));
    expect(l.node.status().conf.voters).to.not.include(victim);
    await settle(l.node.propose(put('after', 'change')));
    await until('new voter applies', () => (joiner.sm.get('after')?.toString() === 'change' ? true : undefined));
  });
});
