/**
 * A leader's pipelined Readies (node.ts handleReady): entries that the
 * followers committed are applied and answered while the leader's own fsync
 * is still in flight; a local snapshot never covers entries the leader has
 * not made durable; and a leader that dies after answering but before its
 * fsync returns loses nothing it acknowledged (the followers' quorum has it).
 *
 * The leader's storage is a MemoryStorage (write buffers, fsync makes durable,
 * crash drops what is unsynced) whose fsyncs the test releases by hand; the
 * network is in-process and the clock manual, so nothing here depends on the
 * machine's speed.
 */
import { expect } from 'chai';
import { ManualClock } from '../../../src/common/clock.ts';
import { MemoryNetwork } from '../../../src/raft/memory-transport.ts';
import { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import type { RaftStorage, ReadyToPersist, StoredState } from '../../../src/raft/storage.ts';
import type { Snapshot } from '../../../src/raft/types.ts';
import { advanceTicks, decodeText, kvPut, settle, startKvNode, storedState, untilTicks, type KvMember } from './helpers.ts';

const TICK_MS = 100;
const VOTERS = [1, 2, 3];

/** One server's disk: outlives its process. fsyncs complete at once unless `hold` is set. */
class Disk {
  readonly memory = new MemoryStorage({ voters: VOTERS, learners: [] });
  hold = false;
  /** Snapshots saved, with the durable last index at the moment each was saved. */
  readonly snapshots: { index: number; durableLast: number }[] = [];
  private waiting: (() => void)[] = [];

  get unsynced(): number {
    return this.waiting.length;
  }

  /** Completes every held fsync. */
  release(): void {
    this.hold = false;
    this.memory.fsync();
    for (const w of this.waiting.splice(0)) w();
  }

  /** Power loss: unsynced writes are gone; their fsyncs never complete. */
  crash(): void {
    this.memory.crash();
    this.waiting = [];
    this.hold = false;
  }

  storage(): RaftStorage {
    return {
      load: async (): Promise<StoredState> => storedState(this.memory),
      persist: (ready: ReadyToPersist): Promise<void> => {
        this.memory.write(ready);
        if (!this.hold) {
          this.memory.fsync();
          return Promise.resolve();
        }
        return new Promise<void>((resolve) => this.waiting.push(resolve));
      },
      saveSnapshot: async (snap: Snapshot): Promise<void> => {
        this.snapshots.push({ index: snap.meta.index, durableLast: this.memory.lastIndex() });
        this.memory.saveSnapshot(snap);
      },
      close: async (): Promise<void> => undefined,
    };
  }
}

type Member = KvMember;

describe('RaftNode: a leader applies entries its followers committed while its own fsync is in flight', function () {
  this.timeout(60_000);
  let clock: ManualClock;
  let net: MemoryNetwork;
  let disks: Map<number, Disk>;
  let members: Map<number, Member>;
  const peers = new Map(VOTERS.map((id) => [id, `node-${id}`]));

  async function start(id: number, snapshotEntries = 10_000): Promise<Member> {
    const m = await startKvNode({ id, peers, storage: (disks.get(id) as Disk).storage(), transport: net.transport(id), clock, tickMs: TICK_MS, snapshotEntries });
    members.set(id, m);
    return m;
  }

  const until = <T>(what: string, cond: () => T | undefined, maxTicks = 200): Promise<T> => untilTicks(clock, TICK_MS, what, cond, maxTicks);

  const ticks = (n: number): Promise<void> => advanceTicks(clock, TICK_MS, n);

  const leader = (ids: number[]) => () => ids.map((id) => members.get(id)).find((m) => m?.node.status().role === 'leader');

  beforeEach(() => {
    clock = new ManualClock(0);
    net = new MemoryNetwork();
    disks = new Map(VOTERS.map((id) => [id, new Disk()]));
    members = new Map();
  });

  afterEach(async () => {
    for (const d of disks.values()) d.release();
    await Promise.all([...members.values()].map((m) => m.node.close()));
  });

  it('answers a write before its own fsync returns; dying then loses nothing acknowledged', async () => {
    for (const id of VOTERS) await start(id);
    const l = await until('a leader', leader(VOTERS));
    const lid = l.node.id;
    const disk = disks.get(lid) as Disk;
    disk.hold = true;
    const out = await l.node.propose(kvPut('k', 'v1'));
    // Answered, applied, with the leader's copy still unsynced.
    expect(disk.unsynced).to.be.greaterThan(0);
    expect(disk.memory.lastIndex()).to.be.lessThan(out.index);
    expect(decodeText(l.sm.get('k'))).to.equal('v1');

    // The leader dies before its fsync returns: its copy of the entry is gone with it.
    void l.node.close();
    disk.crash();
    members.delete(lid);
    expect(disk.memory.lastIndex()).to.be.lessThan(out.index);

    const others = VOTERS.filter((id) => id !== lid);
    const next = await until('a new leader', leader(others));
    expect(decodeText(next.sm.get('k'))).to.equal('v1');
    await next.node.read();
    expect(decodeText(next.sm.get('k'))).to.equal('v1');
    // The old leader restarts with a shorter log and learns the entry back from the new leader.
    const back = await start(lid);
    expect(back.node.status().lastIndex).to.be.lessThan(out.index);
    await until('the restarted node to catch up', () => (decodeText(back.sm.get('k')) === 'v1' ? true : undefined));
    expect(back.node.status().role).to.equal('follower');
  });

  it('never snapshots past what its own WAL has made durable', async () => {
    for (const id of VOTERS) await start(id, 1);
    const l = await until('a leader', leader(VOTERS));
    const lid = l.node.id;
    const disk = disks.get(lid) as Disk;
    await settle();
    const before = disk.snapshots.length;
    disk.hold = true;
    const outs = await Promise.all([1, 2, 3, 4, 5].map((i) => l.node.propose(kvPut(`k${i}`, 'v'))));
    const last = Math.max(...outs.map((o) => o.index));
    await ticks(3);
    expect(l.node.status().applied).to.equal(last);
    expect(disk.memory.lastIndex()).to.be.lessThan(last);
    // Snapshots due every entry, yet none taken while the applied entries are unsynced.
    expect(disk.snapshots.slice(before).filter((s) => s.index > s.durableLast)).to.deep.equal([]);
    expect(disk.snapshots.slice(before).every((s) => s.index < last)).to.equal(true);
    disk.release();
    await until('a snapshot covering the writes', () => (disk.snapshots.some((s) => s.index >= last) ? true : undefined));
    expect(disk.snapshots.filter((s) => s.index > s.durableLast)).to.deep.equal([]);
  });
});
