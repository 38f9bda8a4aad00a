/**
 * A small synchronous in-memory network of RaftCores for scenario tests
 * (etcd raft_test.go style): `net.cut(1, 3)`, `net.isolate(2)`, `net.heal()`,
 * `net.tick(id)`, `net.settle()` delivers until quiet. Each node handles Ready
 * in the shell's order: write + fsync → send → apply → advance.
 */
import { RaftCore } from '../../../src/raft/core.ts';
import { MemoryStorage } from '../../../src/raft/memory-storage.ts';
import { SeededRandom } from '../../../src/common/random.ts';
import type { ConfState, Entry, Message, NodeId, RaftConfig, ReadState, Snapshot } from '../../../src/raft/types.ts';
import { defaultRaftConfig } from '../../../src/raft/types.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

export interface TestNode {
  core: RaftCore;
  storage: MemoryStorage;
  /** Applied normal non-empty entries, as strings, in order. */
  applied: string[];
  appliedIndex: number;
  readStates: ReadState[];
  snapshotsInstalled: Snapshot[];
}

export class Net {
  readonly nodes = new Map<NodeId, TestNode>();
  private readonly blocked = new Set<string>();
  private queue: Message[] = [];
  readonly delivered: Message[] = [];
  private readonly overrides: Partial<RaftConfig>;
  private seed = 1;
  /** Drops every message for which this returns true (in addition to cuts). */
  filter: ((m: Message) => boolean) | undefined;

  constructor(ids: readonly NodeId[], overrides: Partial<RaftConfig> = {}, learners: readonly NodeId[] = []) {
    this.overrides = overrides;
    const conf: ConfState = { voters: ids, learners };
    for (const id of [...ids, ...learners]) this.add(id, conf);
  }

  config(id: NodeId): RaftConfig {
    return { ...defaultRaftConfig, id, random: new SeededRandom(id * 7919 + this.seed++), ...this.overrides };
  }

  /** Adds a node: a bootstrap member (conf given) or a joiner (empty conf). */
  add(id: NodeId, conf: ConfState = { voters: [], learners: [] }): TestNode {
    const storage = new MemoryStorage(conf);
    const node: TestNode = { core: new RaftCore(this.config(id), storage.initialState()), storage, applied: [], appliedIndex: 0, readStates: [], snapshotsInstalled: [] };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  core(id: NodeId): RaftCore {
    return this.node(id).core;
  }

  /** Restart from durable storage (everything not fsynced is lost). */
  restart(id: NodeId): void {
    const n = this.node(id);
    n.storage.crash();
    const init = n.storage.initialState();
    n.core = new RaftCore(this.config(id), init);
    n.applied = init.snapshot ? (JSON.parse(dec.decode(init.snapshot.data)) as string[]) : [];
    n.appliedIndex = init.snapshot?.meta.index ?? 0;
  }

  cut(a: NodeId, b: NodeId): void {
    this.blocked.add(`${a}>${b}`);
    this.blocked.add(`${b}>${a}`);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  isolate(a: NodeId): void {
    for (const b of this.nodes.keys()) if (b !== a) this.cut(a, b);
  }

  heal(): void {
    this.blocked.clear();
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.core(id).tick();
      this.settle();
    }
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const n of this.nodes.values()) n.core.tick();
      this.settle();
    }
  }

  /** Ticks `id` until it campaigns and the cluster settles. */
  elect(id: NodeId): void {
    const core = this.core(id);
    for (let i = 0; i < 100 && core.status.role !== 'leader'; i++) this.tick(id);
  }

  /** Handles all Readies and delivers all messages until nothing moves. */
  settle(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const [, n] of this.nodes) {
        while (n.core.hasReady()) {
          moved = true;
          const rd = n.core.ready();
          n.storage.write(rd);
          n.storage.fsync();
          this.queue.push(...rd.messages);
          if (rd.snapshot) {
            n.snapshotsInstalled.push(rd.snapshot);
            n.applied = (JSON.parse(dec.decode(rd.snapshot.data)) as string[]).slice();
            n.appliedIndex = rd.snapshot.meta.index;
          }
          for (const e of rd.committedEntries) this.apply(n, e);
          n.readStates.push(...rd.readStates);
          n.core.advance(rd);
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        moved = true;
        if (this.blocked.has(`${m.from}>${m.to}`) || this.filter?.(m)) continue;
        const target = this.nodes.get(m.to);
        if (target === undefined) continue;
        this.delivered.push(m);
        target.core.step(m);
      }
      if (!moved) return;
    }
    throw new Error('network did not settle');
  }

  /** App snapshot of node id at its applied index, then compaction. */
  snapshotAndCompact(id: NodeId): Snapshot {
    const n = this.node(id);
    const snap = n.core.createSnapshot(n.appliedIndex, enc.encode(JSON.stringify(n.applied)));
    n.storage.saveSnapshot(snap);
    n.core.compact(snap.meta.index);
    return snap;
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.core.status.role === 'leader').map((n) => n.core.id);
  }

  private apply(n: TestNode, e: Entry): void {
    if (e.index !== n.appliedIndex + 1) throw new Error(`node ${n.core.id} applies ${e.index} after ${n.appliedIndex}`);
    n.appliedIndex = e.index;
    if (e.type === 'normal' && e.data.length > 0) n.applied.push(dec.decode(e.data));
  }
}
