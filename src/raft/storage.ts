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

export interface RaftStorage {
  /** Recovers what was durable. Called once, before any other method. */
  load(): Promise<StoredState>;
  /** Makes one Ready's snapshot, entries and hard state durable (group-committed). */
  persist(ready: ReadyToPersist): Promise<void>;
  /** Stores a locally created snapshot and drops log files it covers. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}
