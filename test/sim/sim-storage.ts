/**
 * Simulated stable storage for one server. `SimDisk` is the platter: it
 * outlives crashes and holds a `MemoryStorage` whose unsynced writes vanish on
 * power loss. Each process incarnation opens a `SimStorage` (the shell's
 * `RaftStorage`) on it: `persist` writes, waits a seeded disk latency, then
 * fsyncs and only then resolves — or, if the seed says the power fails first,
 * the server crashes and the promise never settles (the process is gone).
 * A killed incarnation's pending operations never complete.
 */
import type { Random } from '../../src/common/random.ts';
import { MemoryStorage } from '../../src/raft/memory-storage.ts';
import type { RaftStorage, ReadyToPersist, StoredState } from '../../src/raft/storage.ts';
import type { ConfState, Snapshot } from '../../src/raft/types.ts';
import type { EventQueue } from './event-queue.ts';

export interface DiskHooks {
  /** Asked once per fsync: true = the power fails before it completes. */
  powerLossBeforeFsync(): boolean;
  /** Asked once per disk operation: true = a latency spike (a real disk's occasional slow fsync). */
  slowFsync(): boolean;
  onPowerLoss(): void;
}

export class SimDisk {
  readonly memory: MemoryStorage;

  constructor(bootstrap: ConfState) {
    this.memory = new MemoryStorage(bootstrap);
  }

  /** Power loss: everything not fsynced is gone. */
  crash(): void {
    this.memory.crash();
  }
}

/**
 * A slow fsync takes this many times the usual maximum: long enough that a leader's followers
 * commit its entries first, so the leader applies them before its own copy is durable.
 */
const SLOW_FSYNC_FACTOR = 5;

export class SimStorage implements RaftStorage {
  protected alive = true;

  constructor(
    protected readonly disk: SimDisk,
    protected readonly queue: EventQueue,
    protected readonly rng: Random,
    protected readonly maxLatencyMs: number,
    protected readonly hooks: DiskHooks,
  ) {}

  async load(): Promise<StoredState> {
    const s = this.disk.memory.initialState();
    return { hardState: s.hardState, snapshot: s.snapshot, entries: s.entries };
  }

  persist(ready: ReadyToPersist): Promise<void> {
    this.disk.memory.write(ready);
    if (!this.disk.memory.hasPending()) return Promise.resolve();
    return new Promise((resolve) => {
      this.afterLatency(() => {
        if (this.hooks.powerLossBeforeFsync()) return this.hooks.onPowerLoss();
        this.disk.memory.fsync();
        resolve();
      });
    });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return new Promise((resolve) => {
      this.afterLatency(() => {
        this.disk.memory.saveSnapshot(snapshot);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.kill();
  }

  kill(): void {
    this.alive = false;
  }

  protected afterLatency(fn: () => void): void {
    const spike = this.hooks.slowFsync() ? SLOW_FSYNC_FACTOR * this.maxLatencyMs : 0;
    this.queue.after(spike + this.rng.next() * this.maxLatencyMs, () => {
      if (this.alive) fn();
    });
  }
}

/** How a simulated server's pieces are built: the seam where a broken variant is plugged in. */
export type StorageFactory = (disk: SimDisk, queue: EventQueue, rng: Random, maxLatencyMs: number, hooks: DiskHooks) => SimStorage;

export const correctStorage: StorageFactory = (disk, queue, rng, maxLatencyMs, hooks) => new SimStorage(disk, queue, rng, maxLatencyMs, hooks);
