/**
 * One simulated server: a RaftCore driven like the real shell (node.ts) would
 * drive it, over MemoryStorage with an asynchronous fsync:
 *   ready() → write → [disk latency] → fsync → send → apply → advance()
 * Messages and ticks keep arriving while the fsync is in flight. A crash drops
 * everything not fsynced (MemoryStorage.crash) and the node restarts from its
 * durable state, rebuilding the KV machine from the snapshot + log.
 * Its clock drifts: it ticks every tickMs * (1 + drift).
 */
import { RaftCore } from '../../src/raft/core.ts';
import { MemoryStorage } from '../../src/raft/memory-storage.ts';
import { SeededRandom } from '../../src/common/random.ts';
import type { Random } from '../../src/common/random.ts';
import type { ConfState, Entry, Message, NodeId, RaftConfig, ReadState, Ready, Snapshot } from '../../src/raft/types.ts';
import type { KvOutput } from '../../src/lincheck/models.ts';
import { KvMachine, decodeCommand } from './kv-machine.ts';
import type { EventQueue } from './event-queue.ts';

export interface NodeObserver {
  send(m: Message): void;
  /** Called for every applied entry; `output` for normal commands. */
  onApply(node: SimNode, e: Entry, output: KvOutput | undefined): void;
  onSnapshotRestored(node: SimNode, snap: Snapshot): void;
  onReadState(node: SimNode, rs: ReadState): void;
  onFailure(message: string): void;
  /** Asked once per Ready that needs an fsync: true = lose power before the fsync completes. */
  crashBeforeFsync(node: SimNode): boolean;
  onCrashed(node: SimNode): void;
}

export interface SimNodeOptions {
  readonly raft: Omit<RaftConfig, 'id' | 'random'>;
  readonly tickMs: number;
  /** Take an app snapshot every this many applied entries (randomized ±50%). */
  readonly snapshotEvery: number;
  /** Entries kept in memory behind the snapshot after compaction. */
  readonly keepAfterCompact: number;
  readonly maxDiskLatencyMs: number;
}

export class SimNode {
  readonly id: NodeId;
  core: RaftCore;
  kv = new KvMachine();
  appliedIndex = 0;
  up = true;
  /** Stopped for good (removed from the cluster). */
  stopped = false;
  private epoch = 0;
  private outstanding: Ready | undefined;
  private readonly storage: MemoryStorage;
  private readonly drift: number;
  private nextSnapshotAt: number;
  restarts = 0;

  constructor(
    id: NodeId,
    bootstrap: ConfState,
    private readonly opts: SimNodeOptions,
    private readonly queue: EventQueue,
    private readonly rng: Random,
    private readonly observer: NodeObserver,
  ) {
    this.id = id;
    this.storage = new MemoryStorage(bootstrap);
    this.drift = (rng.next() - 0.5) * 0.1; // ±5 %
    this.core = this.newCore();
    this.nextSnapshotAt = this.pickSnapshotPoint();
    this.scheduleTick();
  }

  private newCore(): RaftCore {
    const random = new SeededRandom(Math.floor(this.rng.next() * 2 ** 31) + this.id);
    return new RaftCore({ ...this.opts.raft, id: this.id, random }, this.storage.initialState());
  }

  private pickSnapshotPoint(): number {
    return this.appliedIndex + Math.max(1, Math.round(this.opts.snapshotEvery * (0.5 + this.rng.next())));
  }

  private scheduleTick(): void {
    const epoch = this.epoch;
    const period = this.opts.tickMs * (1 + this.drift) * (0.95 + 0.1 * this.rng.next());
    this.queue.after(period, () => {
      if (epoch !== this.epoch || !this.up) return;
      this.core.tick();
      this.pump();
      this.scheduleTick();
    });
  }

  receive(m: Message): void {
    if (!this.up) return;
    this.core.step(m);
    this.pump();
  }

  /** Runs a core call (propose, readIndex, ...) then handles the resulting Ready. */
  act<T>(fn: (core: RaftCore) => T): T {
    const r = fn(this.core);
    this.pump();
    return r;
  }

  pump(): void {
    if (!this.up || this.outstanding !== undefined || !this.core.hasReady()) return;
    const rd = this.core.ready();
    this.outstanding = rd;
    this.storage.write(rd);
    if (this.storage.hasPending()) {
      const epoch = this.epoch;
      const powerLoss = this.observer.crashBeforeFsync(this);
      this.queue.after(this.rng.next() * this.opts.maxDiskLatencyMs, () => {
        if (epoch !== this.epoch || !this.up) return;
        if (powerLoss) {
          this.crash();
          this.observer.onCrashed(this);
        } else this.finishReady(rd);
      });
    } else {
      this.finishReady(rd);
    }
  }

  private finishReady(rd: Ready): void {
    this.storage.fsync();
    for (const m of rd.messages) this.observer.send(m);
    if (rd.snapshot !== undefined) {
      this.kv = KvMachine.restore(rd.snapshot.data);
      this.appliedIndex = rd.snapshot.meta.index;
      this.nextSnapshotAt = this.pickSnapshotPoint();
      this.observer.onSnapshotRestored(this, rd.snapshot);
    }
    for (const e of rd.committedEntries) {
      if (e.index <= this.appliedIndex) continue;
      if (e.index !== this.appliedIndex + 1) {
        this.observer.onFailure(`node ${this.id} applies ${e.index} after ${this.appliedIndex}`);
        return;
      }
      this.appliedIndex = e.index;
      const output = e.type === 'normal' && e.data.length > 0 ? this.kv.apply(decodeCommand(e.data).input) : undefined;
      this.observer.onApply(this, e, output);
    }
    this.outstanding = undefined;
    this.core.advance(rd);
    for (const rs of rd.readStates) this.observer.onReadState(this, rs);
    this.maybeSnapshot();
    this.pump();
  }

  private maybeSnapshot(): void {
    if (this.appliedIndex < this.nextSnapshotAt || this.appliedIndex !== this.core.status.applied) return;
    const snap = this.core.createSnapshot(this.appliedIndex, this.kv.snapshot());
    this.storage.saveSnapshot(snap);
    const keepFrom = snap.meta.index - this.opts.keepAfterCompact;
    if (keepFrom >= this.core.status.firstIndex) this.core.compact(keepFrom);
    this.nextSnapshotAt = this.pickSnapshotPoint();
  }

  /** Power loss: unsynced writes are gone; timers and in-flight fsyncs die with the process. */
  crash(): void {
    if (!this.up) return;
    this.up = false;
    this.epoch++;
    this.outstanding = undefined;
    this.storage.crash();
  }

  restart(): void {
    if (this.up || this.stopped) return;
    this.up = true;
    this.restarts++;
    this.epoch++;
    this.core = this.newCore();
    const snap = this.storage.durableSnapshot();
    this.kv = snap ? KvMachine.restore(snap.data) : new KvMachine();
    this.appliedIndex = snap?.meta.index ?? 0;
    this.nextSnapshotAt = this.pickSnapshotPoint();
    this.scheduleTick();
    this.pump();
  }

  stop(): void {
    this.crash();
    this.stopped = true;
  }

  describe(): string {
    return `${this.up ? '' : this.stopped ? '[stopped] ' : '[down] '}${this.core.describe()} kv=${this.kv.describe()}`;
  }
}
