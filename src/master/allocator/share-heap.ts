/**
 * A binary min-heap of sorter entries ordered by (share, id): the DRF sorters
 * for roles and for frameworks within a role. The allocator only ever looks at
 * and changes the root, so the heap supports peek / pop / push / fixRoot.
 *
 * Invariant: for every i, entry[parent(i)] <= entry[i] under `lessThan`.
 * Ties on share break by id so allocation is deterministic for a given seed.
 * No I/O here.
 */

export interface ShareEntry {
  /** Weighted dominant share; lower is served first. */
  share: number;
  id: string;
}

export function lessThan(a: ShareEntry, b: ShareEntry): boolean {
  return a.share < b.share || (a.share === b.share && a.id < b.id);
}

export class ShareHeap<T extends ShareEntry> {
  private readonly items: T[];

  constructor(items: T[] = []) {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Restores order after the root's share changed. */
  fixRoot(): void {
    if (this.items.length > 1) this.siftDown(0);
  }

  /** Entries in no particular order (for printing; sort a copy). */
  values(): readonly T[] {
    return this.items;
  }

  private siftUp(i: number): void {
    const items = this.items;
    const item = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!lessThan(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && lessThan(items[child + 1], items[child])) child++;
      if (!lessThan(items[child], item)) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = item;
  }
}
