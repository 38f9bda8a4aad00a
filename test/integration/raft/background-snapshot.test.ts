/**
 * Local snapshots are written in the background (node.ts takeSnapshot): the
 * Ready loop goes on committing and applying while the snapshot file is
 * written; one snapshot at a time; the log is compacted only once the
 * snapshot is durable; a snapshot received from the leader waits for the
 * local one to be on disk; close() waits for it too.
 *
 * Storage is a MemoryStorage whose snapshot saves the test holds and releases
 * by hand; the network is in-process and the clock manual.
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

/** One server's disk. Snapshot saves complete at once unless `holdSnapshots` is set. */
class Disk {
  readonly memory = new MemoryStorage({ voters: VOTERS, learners: [] });
  holdSnapshots = false;
  /** What happened, in order: `save@i` when a save starts, `saved@i` when it is durable, `installed@i` for a leader's snapshot, `closed`. */
  readonly events: string[] = [];
  private held: (() => void)[] = [];

  get savesInFlight(): number {
    return this.held.length;
  }

  release(): void {
    this.holdSnapshots = false;
    for (const r of this.held.splice(0)) r();
  }

  storage(): RaftStorage {
    return {
      load: async (): Promise<StoredState> => storedState(this.memory),
      persist: async (ready: ReadyToPersist): Promise<void> => {
        if (ready.snapshot !== undefined) this.events.push(`installed@${ready.snapshot.meta.index}`);
        this.memory.write(ready);
        this.memory.fsync();
      },
      saveSnapshot: async (snap: Snapshot): Promise<void> => {
        const i = snap.meta.index;
        this.events.push(`save@${i}`);
        if (this.holdSnapshots) await new Promise<void>((r) => this.held.push(r));
        this.memory.saveSnapshot(snap);
        this.events.push(`saved@${i}`);
      },
      close: async (): Promise<void> => {
        this.events.push('closed');
      },
    };
  }
}

type Member = KvMember;

describe('RaftNode: local snapshots are written in the background', function () {
  this.timeout(60_000);
  let clock: ManualClock;
  let net: MemoryNetwork;
  let disks: Map<number, Disk>;
  let members: Map<number, Member>;
  const peers = new Map(VOTERS.map((id) => [id, `node-${id}`]));

  async function start(id: number): Promise<Member> {
    const m = await startKvNode({ id, peers, storage: (disks.get(id) as Disk).storage(), transport: net.transport(id), clock, tickMs: TICK_MS, snapshotEntries: 5 });
    members.set(id, m);
    return m;
  }

  const until = <T>(what: string, cond: () => T | undefined, maxTicks = 200): Promise<T> => untilTicks(clock, TICK_MS, what, cond, maxTicks);
  const disk = (id: number) => disks.get(id) as Disk;

  const ticks = (n: number): Promise<void> => advanceTicks(clock, TICK_MS, n);

  /** Proposes `n` writes one after another; resolves with the last index once all are answered. */
  async function write(l: Member, prefix: string, n: number): Promise<number> {
    let last = 0;
    for (let i = 0; i < n; i++) last = (await l.node.propose(kvPut(`${prefix}${i}`, `v${i}`))).index;
    return last;
  }

  /** Resolves to whether `p` settles within `n` ticks. */
  async function settlesWithin<T>(p: Promise<T>, n: number): Promise<boolean> {
    let done = false;
    void p.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; i < n && !done; i++) await ticks(1);
    return done;
  }

  const leader = (ids: number[]) => () => ids.map((id) => members.get(id)).find((m) => m?.node.status().role === 'leader');

  beforeEach(() => {
    clock = new ManualClock(0);
    net = new MemoryNetwork();
    disks = new Map(VOTERS.map((id) => [id, new Disk()]));
    members = new Map();
  });

  afterEach(async () => {
    net.heal();
    for (const d of disks.values()) d.release();
    await Promise.all([...members.values()].map((m) => m.node.close()));
  });

  it('keeps committing while a snapshot is written, takes one at a time, and compacts only once it is durable', async () => {
    for (const id of VOTERS) await start(id);
    const l = await until('a leader', leader(VOTERS));
    const d = disk(l.node.id);
    d.holdSnapshots = true;
    const firstBefore = l.node.status().firstIndex;

    await write(l, 'a', 6);
    await settle();
    expect(d.savesInFlight).to.equal(1);
    const held = Number((d.events.find((e) => e.startsWith('save@')) as string).slice('save@'.length));

    // Three times the snapshot interval more, all answered while the first snapshot is still on its way to disk.
    const outs = await settlesWithin(write(l, 'b', 15), 50);
    expect(outs, 'writes answered while a snapshot was being written').to.equal(true);
    expect(decodeText(l.sm.get('b14'))).to.equal('v14');
    expect(d.savesInFlight, 'one snapshot at a time').to.equal(1);
    expect(l.node.status().firstIndex, 'no compaction before the snapshot is durable').to.equal(firstBefore);

    d.release();
    await settle();
    expect(d.events).to.include(`saved@${held}`);
    expect(l.node.status().firstIndex, "compacted up to the snapshot, less catchUpEntries (1)").to.equal(held);
    // The entries applied meanwhile call for the next snapshot, taken at the next Ready.
    await write(l, 'c', 1);
    await settle();
    expect(d.events.filter((e) => e.startsWith('saved@')).length).to.be.greaterThan(1);
  });

  it('close() waits for a snapshot being written before closing storage', async () => {
    for (const id of VOTERS) await start(id);
    const l = await until('a leader', leader(VOTERS));
    const d = disk(l.node.id);
    d.holdSnapshots = true;
    await write(l, 'a', 6);
    await settle();
    expect(d.savesInFlight).to.equal(1);

    members.delete(l.node.id);
    const closed = l.node.close();
    expect(await settlesWithin(closed, 3)).to.equal(false);
    d.release();
    await closed;
    const saved = d.events.findIndex((e) => e.startsWith('saved@'));
    expect(saved).to.be.greaterThan(-1);
    expect(d.events.indexOf('closed')).to.be.greaterThan(saved);
  });

  it("a snapshot from the leader waits until the follower's own snapshot is on disk", async () => {
    for (const id of VOTERS) await start(id);
    const l = await until('a leader', leader(VOTERS));
    const fid = VOTERS.find((id) => id !== l.node.id) as number;
    const f = members.get(fid) as Member;
    const fd = disk(fid);
    fd.holdSnapshots = true;
    await write(l, 'a', 6);
    await until('the follower to start its own snapshot', () => (fd.savesInFlight === 1 ? true : undefined));

    // The follower falls behind the leader's compacted log: it can only catch up by a snapshot.
    net.isolate(fid);
    const last = await write(l, 'b', 20);
    expect(l.node.status().firstIndex).to.be.greaterThan(f.node.status().applied + 1);
    net.heal();
    await ticks(10);
    expect(fd.events.filter((e) => e.startsWith('installed@')), 'no snapshot installed over one still being written').to.deep.equal([]);

    fd.release();
    await until('the follower to catch up', () => (f.node.status().applied >= last ? true : undefined));
    const saved = fd.events.findIndex((e) => e.startsWith('saved@'));
    const installed = fd.events.findIndex((e) => e.startsWith('installed@'));
    expect(installed).to.be.greaterThan(saved);
    expect(decodeText(f.sm.get('b19'))).to.equal('v19');
  });
});
