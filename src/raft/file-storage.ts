/**
 * `RaftStorage` on the local file system: a segmented WAL (`wal.ts`) for hard
 * state and entries, snapshot files (`snapshot-file.ts`) beside it, in one
 * data directory.
 *
 * Invariants:
 *  - A received snapshot is written (atomically) before the WAL records that
 *    reference it, so a WAL marker never points at a missing snapshot.
 *  - On load, entries at or below the snapshot are dropped; if the entry at
 *    the snapshot index is missing or has another term the log is discarded
 *    (Raft §7: the snapshot replaces it). The recovered commit is at least the
 *    snapshot index (a snapshot only ever holds committed state).
 *  - Entries, term and vote are fsynced before `persist` resolves; a change of
 *    the commit index alone is queued (in order) but neither fsynced nor
 *    awaited (Raft re-learns it; etcd's MustSync rule).
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../common/log.ts';
import type { PersistOptions, RaftStorage, ReadyToPersist, StoredState } from './storage.ts';
import type { Entry, Snapshot } from './types.ts';
import { SnapshotStore } from './snapshot-file.ts';
import { Wal } from './wal.ts';

export interface FileStorageOptions {
  readonly segmentBytes?: number;
  readonly log?: Logger;
}

const RESOLVED: Promise<void> = Promise.resolve();

export class FileStorage implements RaftStorage {
  private readonly dir: string;
  private readonly opts: FileStorageOptions;
  private readonly snapshots: SnapshotStore;
  private wal: Wal | undefined;
  /** Term and vote last written: a Ready changing only the commit index needs no fsync (etcd's MustSync). */
  private term = 0;
  private vote = 0;

  constructor(dir: string, opts: FileStorageOptions = {}) {
    this.dir = dir;
    this.opts = opts;
    this.snapshots = new SnapshotStore(dir);
  }

  async load(): Promise<StoredState> {
    await mkdir(this.dir, { recursive: true });
    const snapshot = await this.snapshots.loadLatest();
    const { wal, state } = await Wal.open(this.dir, this.opts);
    this.wal = wal;
    let entries: readonly Entry[] = state.entries;
    const hs = state.hardState ?? { term: 0, vote: 0, commit: 0 };
    if (snapshot !== undefined) {
      const s = snapshot.meta;
      const at = entries.find((e) => e.index === s.index);
      const first = entries[0];
      if (at !== undefined && at.term === s.term) entries = entries.filter((e) => e.index > s.index);
      else if (first !== undefined && first.index === s.index + 1) {
        // Already compacted up to the snapshot.
      } else entries = [];
    }
    const commit = Math.max(hs.commit, snapshot?.meta.index ?? 0);
    // A received snapshot is saved before the WAL records of its Ready: after a crash in
    // between, the stored term may trail the snapshot's. We never voted in that term (a vote
    // is durable before it is sent), so adopting it with no vote is safe.
    const hard = snapshot !== undefined && hs.term < snapshot.meta.term ? { term: snapshot.meta.term, vote: 0, commit } : { ...hs, commit };
    this.term = hard.term;
    this.vote = hard.vote;
    return { hardState: hard, snapshot, entries };
  }

  /** Not async: the common case hands back the WAL's promise rather than wrapping it in another (one per write). */
  persist(ready: ReadyToPersist, opts?: PersistOptions): Promise<void> {
    let wal: Wal;
    try {
      wal = this.requireWal();
    } catch (err) {
      return Promise.reject(err);
    }
    const inline = opts?.blocking === true;
    if (ready.snapshot !== undefined) return this.persistWithSnapshot(wal, ready.snapshot, ready, inline);
    if (ready.entries.length === 0 && ready.hardState === undefined) return RESOLVED;
    const hs = ready.hardState;
    const sync = ready.entries.length > 0 || (hs !== undefined && (hs.term !== this.term || hs.vote !== this.vote));
    if (hs !== undefined) {
      this.term = hs.term;
      this.vote = hs.vote;
    }
    const written = wal.append({ entries: ready.entries, hardState: hs }, { sync, inline });
    if (sync) return written;
    // Commit-only: nothing waits on it. A write error marks the WAL failed, so the next
    // synced persist rejects and the node stops.
    written.catch(() => undefined);
    return RESOLVED;
  }

  private async persistWithSnapshot(wal: Wal, snapshot: Snapshot, ready: ReadyToPersist, inline: boolean): Promise<void> {
    await this.snapshots.save(snapshot);
    const m = snapshot.meta;
    if (ready.hardState !== undefined) {
      this.term = ready.hardState.term;
      this.vote = ready.hardState.vote;
    }
    await wal.append({ snapshot: { index: m.index, term: m.term, replace: true }, entries: ready.entries, hardState: ready.hardState }, { inline });
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const wal = this.requireWal();
    await this.snapshots.save(snapshot);
    await wal.markSnapshot({ index: snapshot.meta.index, term: snapshot.meta.term, replace: false });
    await wal.releaseBefore(snapshot.meta.index);
  }

  async close(): Promise<void> {
    await this.wal?.close();
    this.wal = undefined;
  }

  /** WAL counters (writes, fsyncs) for benchmarks. */
  get walStats(): { readonly writes: number; readonly syncs: number } {
    return this.wal?.stats ?? { writes: 0, syncs: 0 };
  }

  private requireWal(): Wal {
    if (this.wal === undefined) throw new Error('FileStorage used before load() or after close()');
    return this.wal;
  }
}
