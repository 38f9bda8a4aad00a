/**
 * The shell's stable-storage seam: what `RaftNode` needs from durable storage.
 * `FileStorage` (WAL + snapshot files) is the real one; tests may supply their
 * own. Every method resolves only once its data is durable (fsynced).
 */
import type { Entry, HardState, Snapshot } from './types.ts';

/** What survived the last run: feeds `InitialState` (the bootstrap conf comes from config). */
export interface StoredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | undefined;
  /** Entries after the snapshot, contiguous. */
  readonly entries: readonly Entry[];
}

/** The persistent part of one Ready, in the order it must be made durable. */
export interface ReadyToPersist {
  /** Received from the leader: replaces the whole stored log. */
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
}

/** How the caller will wait for a persist. */
export interface PersistOptions {
  /**
   * The caller does nothing else until this persist is durable (a follower's Ready): storage
   * may then make it durable on the calling thread — an fsync there saves the thread-pool round
   * trip (~70 µs on a loaded 2-core machine) on the critical path of every replicated write.
   * Group commit is kept: what arrives meanwhile waits in socket buffers and forms the next group.
   */
  readonly blocking?: boolean;
}

export interface RaftStorage {
  /** Recovers what was durable. Called once, before any other method. */
  load(): Promise<StoredState>;
  /** Makes one Ready's snapshot, entries and hard state durable (group-committed). */
  persist(ready: ReadyToPersist, opts?: PersistOptions): Promise<void>;
  /** Stores a locally created snapshot and drops log files it covers. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}
