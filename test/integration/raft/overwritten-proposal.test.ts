/**
 * Regression: a proposal whose slot on its leader is overwritten by another
 * leader's entry is not thereby "dropped" — a copy on another node can still
 * be committed (Raft paper Figure 8). RaftNode used to reject such a proposal
 * at once with ProposalDroppedError ("it was NOT applied"), and examples/kv
 * answered the client "applied: false" for a write that then took effect.
 *
 * The schedule, on five nodes (L, A and the group G = three others):
 *   1. L leads; L and A are cut off from G; L proposes P, which reaches A only.
 *   2. A is cut off too; G elects N, whose appends inside G are dropped, so its
 *      entry at P's index commits nowhere.
 *   3. N reaches L and overwrites P's slot there (the old code rejected P here).
 *   4. N and L are cut off; A, with P as its last entry, is the only node G can
 *      elect; it commits P.
 *   5. Everything heals: L applies P at its index. The proposal must resolve.
 * Messages are filtered per (from, to, type) by a wrapper around the memory
 * transport; the clock is a ManualClock shared by all nodes.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import { FileStorage } from '../../../src/raft/file-storage.ts';
import { MemoryNetwork } from '../../../src/raft/memory-transport.ts';
import { RaftNode, type ProposeOutcome } from '../../../src/raft/node.ts';
import type { Transport } from '../../../src/raft/transport.ts';
import type { Message, NodeId } from '../../../src/raft/types.ts';
import { encodeCommand, KvStateMachine, type KvResult } from '../../../examples/kv/state-machine.ts';
import { untilTicks } from './helpers.ts';

const silent = pino({ level: 'silent' });
const TICK_MS = 100;
const IDS = [1, 2, 3, 4, 5];
const enc = (s: string) => new TextEncoder().encode(s);
const put = (key: string, value: string) => encodeCommand({ op: 'put', key, value: enc(value) });

interface Member {
  node: RaftNode<KvResult>;
  sm: KvStateMachine;
}

/** Drops a message when the current rule says so. */
type DropRule = (m: Message) => boolean;

function filtered(inner: Transport, drop: () => DropRule): Transport {
  return {
    start: (h) => inner.start(h),
    send: (messages) => inner.send(messages.filter((m) => !drop()(m))),
    setPeer: (id, addr) => inner.setPeer(id, addr),
    removePeer: (id) => inner.removePeer(id),
    close: () => inner.close(),
  };
}

describe('RaftNode: a proposal overwritten on its leader may still commit elsewhere', function () {
  this.timeout(60_000);
  let base: string;
  const members = new Map<NodeId, Member>();
  const clock = new ManualClock();
  const net = new MemoryNetwork();
  let rule: DropRule = () => false;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'cygnet-raft-overwrite-'));
    const peers = new Map(IDS.map((id) => [id, `node-${id}`]));
    for (const id of IDS) {
      const sm = new KvStateMachine();
      const node = await RaftNode.start<KvResult>({
        id, peers, storage: new FileStorage(join(base, `n${id}`), { log: silent }),
        transport: filtered(net.transport(id), () => rule), stateMachine: sm,
        tickMs: TICK_MS, proposalTimeoutMs: 600_000, clock, random: new SeededRandom(id * 7919), log: silent,
      });
      members.set(id, { node, sm });
    }
  });

  after(async () => {
    for (const m of members.values()) await m.node.close();
    await rm(base, { recursive: true, force: true });
  });

  const until = <T>(what: string, cond: () => T | undefined, maxTicks = 300): Promise<T> => untilTicks(clock, TICK_MS, what, cond, maxTicks);

  const m = (id: NodeId): Member => members.get(id) as Member;
  const leaderAmong = (ids: readonly NodeId[], aboveTerm = 0) => (): NodeId | undefined =>
    ids.find((id) => m(id).node.status().role === 'leader' && m(id).node.status().term > aboveTerm);
  const isolated = (set: readonly NodeId[]) => (msg: Message): boolean => set.includes(msg.from) !== set.includes(msg.to);

  it('resolves with its result once the entry commits through another leader', async () => {
    const l = await until('a first leader', leaderAmong(IDS));
    const [a, ...g] = IDS.filter((id) => id !== l);
    void m(l).node.propose(put('k', '0')).catch(() => undefined);
    // Every log ends at the same index, so N's first entry lands exactly on P's slot.
    await until('warm-up write applied everywhere', () => {
      const last = m(l).node.status().lastIndex;
      return IDS.every((id) => m(id).sm.get('k') !== undefined && m(id).node.status().lastIndex === last && m(id).node.status().applied === last) ? true : undefined;
    });

    // 1. L and A cut off from G; P reaches A only.
    rule = isolated([l, a]);
    const index = m(l).node.status().lastIndex + 1;
    const termP = m(l).node.status().term;
    let outcome: ProposeOutcome<KvResult> | undefined;
    let failure: unknown;
    m(l).node.propose(put('k', 'P')).then((o) => (outcome = o), (e: unknown) => (failure = e));
    await until('P on A', () => (m(a).node.status().lastIndex >= index ? true : undefined));

    // 2. A cut off too; G elects N, whose appends inside G are lost (it commits nothing).
    const noAppendsInG = (msg: Message): boolean => g.includes(msg.from) && g.includes(msg.to) && (msg.type === 'AppendEntries' || msg.type === 'InstallSnapshot');
    rule = (msg) => isolated([l])(msg) || isolated([a])(msg) || noAppendsInG(msg);
    const n = await until('a leader in G', leaderAmong(g, termP));

    // 3. N reaches L (and only L) and overwrites P's slot there.
    const lAndN = [l, n];
    rule = (msg) => (lAndN.includes(msg.from) && lAndN.includes(msg.to) ? false : isolated([l])(msg) || isolated([a])(msg) || noAppendsInG(msg));
    await until('P overwritten on L', () => {
      const t = m(l).node.view.logTerm(index);
      return t !== undefined && t !== termP ? true : undefined;
    });

    // 4. N and L cut off; only A (holding P) can win G's votes; it commits P.
    rule = (msg) => isolated([l])(msg) || isolated([n])(msg);
    const newLeader = await until('A leads', leaderAmong([a], m(n).node.status().term));
    expect(newLeader).to.equal(a);
    await until('P committed and applied on A', () => (m(a).sm.get('k')?.toString() === 'P' ? true : undefined));
    expect(failure, 'the proposer must not have been told P was dropped').to.equal(undefined);

    // 5. Healed: L applies P at its index, and the proposal resolves there.
    rule = () => false;
    await until('P resolved on L', () => (outcome !== undefined || failure !== undefined ? true : undefined));
    expect(failure).to.equal(undefined);
    expect(outcome).to.deep.include({ index, term: termP });
    expect(m(l).sm.get('k')?.toString()).to.equal('P');
  });
});
