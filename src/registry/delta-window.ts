/**
 * The most recent deltas, so a watcher that reconnects can resume from its
 * revision instead of downloading a whole snapshot: a ring of at most
 * `capacity` entries, oldest overwritten first.
 *
 * It answers "every entry after revision r":
 *   - `base <= r <= newest` → the entries with revision > r, in order
 *     (`base` is the revision of the state just before the oldest entry
 *     kept: the state the window can be replayed onto);
 *   - `r < base` → too old, the watcher needs a snapshot;
 *   - `r > newest` → ahead of us (a watcher coming from a replica that is
 *     further along, or another cluster): a snapshot too.
 *
 * Entries are generic (`{ revision }` plus whatever the caller keeps, e.g.
 * the encoded frame) so the publisher stores each delta's bytes once.
 * Invariant: revisions in the window strictly increase. Pure: no I/O.
 */

/**
 * Default bound: 65,536 deltas. At a few hundred bytes per encoded delta
 * that is ~20-30 MB, and it covers a rolling restart of a thousand-instance
 * app several times over (each instance costs about two deltas), which is the
 * burst a watcher on a briefly unreachable replica would miss.
 */
export const DEFAULT_DELTA_WINDOW_CAPACITY = 65_536;

export type WindowAnswer<E> =
  | { readonly kind: 'deltas'; readonly entries: readonly E[] }
  | { readonly kind: 'snapshot'; readonly reason: 'too-old' | 'ahead' };

export class DeltaWindow<E extends { readonly revision: number }> {
  readonly capacity: number;
  private readonly ring: (E | undefined)[];
  /** Index of the oldest entry in `ring`. */
  private start = 0;
  private count = 0;
  private baseRevision: number;

  constructor(capacity = DEFAULT_DELTA_WINDOW_CAPACITY, baseRevision = 0) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`delta window capacity must be an integer >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.ring = new Array<E | undefined>(capacity);
    this.baseRevision = baseRevision;
  }

  get size(): number {
    return this.count;
  }

  /** Revision of the state the oldest kept entry applies to. */
  get base(): number {
    return this.baseRevision;
  }

  /** Revision of the newest entry (or `base` when empty). */
  get newest(): number {
    return this.count === 0 ? this.baseRevision : this.at(this.count - 1).revision;
  }

  /** Appends one entry; its revision must be above every kept one. */
  push(entry: E): void {
    if (entry.revision <= this.newest) {
      throw new RangeError(`delta window: revision ${entry.revision} does not follow ${this.newest}`);
    }
    if (this.count === this.capacity) {
      // The evicted entry's revision becomes the new base: a watcher at it can still replay what follows.
      this.baseRevision = this.at(0).revision;
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
      return;
    }
    this.ring[(this.start + this.count) % this.capacity] = entry;
    this.count++;
  }

  /** Every entry after `revision`, or why the caller needs a snapshot instead. */
  since(revision: number): WindowAnswer<E> {
    if (revision > this.newest) return { kind: 'snapshot', reason: 'ahead' };
    if (revision < this.baseRevision) return { kind: 'snapshot', reason: 'too-old' };
    // Revisions strictly increase, so binary search for the first entry above `revision`.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    const entries: E[] = [];
    for (let i = lo; i < this.count; i++) entries.push(this.at(i));
    return { kind: 'deltas', entries };
  }

  /** Forgets every entry; the window then replays onto a state at `baseRevision` (after a restore). */
  reset(baseRevision: number): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.baseRevision = baseRevision;
  }

  private at(i: number): E {
    const e = this.ring[(this.start + i) % this.capacity];
    if (e === undefined) throw new Error(`delta window: no entry at ${i} of ${this.count}`);
    return e;
  }
}
