/**
 * MemoryStorage: an in-memory model of the Raft shell's stable storage, with
 * an explicit durability point. `write(ready)` buffers (like write(2) into the
 * page cache); only `fsync()` makes buffered writes durable; `crash()` drops
 * everything not fsynced. Tests and the simulator use it to model power loss.
 *
 * Invariants of the durable state: entries are contiguous and all > snapshot
 * index; hardState.commit may exceed neither the durable last index nor be
 * below the snapshot index (clamped on read).
 * Pure data: no I/O.
 */
import type { ConfState, Entry, HardState, InitialState, Ready, Snapshot } from './types.ts';
import { RaftAssertionError } from './assert.ts';

interface Write {
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
}

export class MemoryStorage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snapshot: Snapshot | undefined;
  private entries: Entry[] = [];
  private pending: Write[] = [];
  private readonly bootstrapConf: ConfState;
  /** Count of fsyncs that made something durable (for benchmarks and tests). */
  fsyncs = 0;

  constructor(bootstrapConf: ConfState) {
    this.bootstrapConf = bootstrapConf;
  }

  /** Buffers the persistent parts of a Ready (not durable until fsync). */
  write(rd: Pick<Ready, 'hardState' | 'snapshot' | 'entries'>): void {
    if (rd.hardState === undefined && rd.snapshot === undefined && rd.entries.length === 0) return;
    this.pending.push({
      ...(rd.hardState ? { hardState: rd.hardState } : {}),
      ...(rd.snapshot ? { snapshot: rd.snapshot } : {}),
      entries: rd.entries,
    });
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  fsync(): void {
    if (this.pending.length === 0) return;
    for (const w of this.pending) this.applyWrite(w);
    this.pending = [];
    this.fsyncs++;
  }

  /** Power loss: everything written since the last fsync is gone. */
  crash(): void {
    this.pending = [];
  }

  /**
   * The app's own snapshot (from RaftCore.createSnapshot), written atomically and durably;
   * drops durable entries <= its index. Pending writes are flushed first (ordering).
   */
  saveSnapshot(snap: Snapshot): void {
    this.fsync();
    if (this.snapshot !== undefined && snap.meta.index <= this.snapshot.meta.index) return;
    this.snapshot = snap;
    this.entries = this.entries.filter((e) => e.index > snap.meta.index);
  }

  initialState(): InitialState {
    const snapIndex = this.snapshot?.meta.index ?? 0;
    const last = this.entries.length > 0 ? this.entries[this.entries.length - 1].index : snapIndex;
    const commit = Math.min(Math.max(this.hardState.commit, snapIndex), last);
    return {
      hardState: { ...this.hardState, commit },
      ...(this.snapshot ? { snapshot: this.snapshot } : {}),
      entries: [...this.entries],
      conf: this.bootstrapConf,
    };
  }

  lastIndex(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1].index : (this.snapshot?.meta.index ?? 0);
  }

  durableSnapshot(): Snapshot | undefined {
    return this.snapshot;
  }

  private applyWrite(w: Write): void {
    if (w.snapshot !== undefined) {
      this.snapshot = w.snapshot;
      this.entries = [];
    }
    const snapIndex = this.snapshot?.meta.index ?? 0;
    const fresh = w.entries.filter((e) => e.index > snapIndex);
    if (fresh.length > 0) {
      const first = fresh[0].index;
      const keep = this.entries.filter((e) => e.index < first);
      const expected = keep.length > 0 ? keep[keep.length - 1].index + 1 : snapIndex + 1;
      if (first !== expected) throw new RaftAssertionError(`storage gap: writing ${first} after ${expected - 1}`);
      this.entries = [...keep, ...fresh];
    }
    if (w.hardState !== undefined) this.hardState = w.hardState;
  }
}
