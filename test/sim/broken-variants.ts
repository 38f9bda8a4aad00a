/**
 * Deliberately broken variants, used only by the negative tests that show the
 * checkers can fail. They live here, in test code, and are chosen by the
 * simulator's `broken` option — nothing in src/ can turn them on.
 *
 *  - `ackBeforeFsync`: storage that acknowledges a write as soon as it is in
 *    the page cache and flushes it later (a lazy writeback), so the shell
 *    sends votes and appends before they are durable. A crash then forgets a
 *    vote or an acknowledged entry: two leaders in one term, lost commits.
 *  - `readsWithoutBarrier` (workload.ts): a server that believes it leads
 *    answers reads from its own state without the ReadIndex barrier, so a
 *    deposed leader serves stale values: a non-linearizable history.
 */
import type { ReadyToPersist } from '../../src/raft/storage.ts';
import { SimStorage } from './sim-storage.ts';
import type { StorageFactory } from './sim-storage.ts';

/** How long the broken disk leaves acknowledged writes unsynced (a page-cache writeback delay). */
const LAZY_WRITEBACK_MS = 1000;

class AckBeforeFsyncStorage extends SimStorage {
  private flushScheduled = false;

  override persist(ready: ReadyToPersist): Promise<void> {
    this.disk.memory.write(ready);
    if (this.disk.memory.hasPending() && !this.flushScheduled) {
      this.flushScheduled = true;
      this.queue.after(LAZY_WRITEBACK_MS, () => {
        this.flushScheduled = false;
        if (this.alive) this.disk.memory.fsync();
      });
    }
    return Promise.resolve();
  }
}

export const ackBeforeFsyncStorage: StorageFactory = (disk, queue, rng, maxLatencyMs, hooks) => new AckBeforeFsyncStorage(disk, queue, rng, maxLatencyMs, hooks);
