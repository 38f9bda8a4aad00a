/**
 * The checker's hot-loop data: a compact bitset of linearized operations with
 * an incrementally maintained hash, and the memo cache of (bitset, state id)
 * pairs already explored.
 *
 * Invariants: `LinearizedSet.hash` is always the XOR of `opHash(i)` over the
 * set bits (Zobrist hashing), so set/clear are O(1) and a lookup only walks
 * the words on a hash match. Cached bitsets are copies in the cache's own pool,
 * never aliased to the live set. No I/O here.
 */

/** A well-mixed 32-bit value per operation index (murmur3 finalizer of i+1). */
function opHash(i: number): number {
  let h = (i + 1) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class LinearizedSet {
  readonly words: Uint32Array;
  /** XOR of opHash(i) over the set bits. */
  hash = 0;
  private readonly opHashes: Uint32Array;

  constructor(size: number) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
    this.opHashes = new Uint32Array(size);
    for (let i = 0; i < size; i++) this.opHashes[i] = opHash(i);
  }

  set(i: number): void {
    this.words[i >>> 5] |= 1 << (i & 31);
    this.hash = (this.hash ^ this.opHashes[i]) >>> 0;
  }

  clear(i: number): void {
    this.words[i >>> 5] &= ~(1 << (i & 31));
    this.hash = (this.hash ^ this.opHashes[i]) >>> 0;
  }

  has(i: number): boolean {
    return (this.words[i >>> 5] & (1 << (i & 31))) !== 0;
  }
}

/** Initial memo table slots (a power of two); the table doubles at half full. Small: most partitions are. */
const INITIAL_MEMO_SLOTS = 1 << 6;

/**
 * (linearized set, model state) configurations already explored, in flat
 * typed arrays — no object per entry, so millions of entries cost little GC:
 *
 *   pool:  [w0 w1 … w(W-1) stateId] per entry (stride W+1)
 *   slots: open addressing, linear probing; slot = entry index + 1, 0 = empty
 *   hashes: the full hash of the entry in each slot (cheap first compare)
 */
export class MemoCache {
  private readonly stride: number;
  private pool: Uint32Array;
  private slots: Int32Array;
  private hashes: Uint32Array;
  private count = 0;

  constructor(private readonly words: number) {
    this.stride = words + 1;
    this.pool = new Uint32Array(this.stride * INITIAL_MEMO_SLOTS);
    this.slots = new Int32Array(INITIAL_MEMO_SLOTS);
    this.hashes = new Uint32Array(INITIAL_MEMO_SLOTS);
  }

  get size(): number {
    return this.count;
  }

  /** Records the configuration; false if it was already there (nothing new to explore). */
  addIfAbsent(set: LinearizedSet, stateId: number): boolean {
    const h = (set.hash ^ Math.imul(stateId + 1, 0x9e3779b1)) >>> 0;
    const mask = this.slots.length - 1;
    let i = h & mask;
    for (;;) {
      const slot = this.slots[i];
      if (slot === 0) break;
      if (this.hashes[i] === h && this.matches(slot - 1, set.words, stateId)) return false;
      i = (i + 1) & mask;
    }
    const entry = this.append(set.words, stateId);
    this.slots[i] = entry + 1;
    this.hashes[i] = h;
    if (++this.count * 2 > this.slots.length) this.grow();
    return true;
  }

  private matches(entry: number, words: Uint32Array, stateId: number): boolean {
    const base = entry * this.stride;
    if (this.pool[base + this.words] !== stateId) return false;
    for (let w = 0; w < this.words; w++) if (this.pool[base + w] !== words[w]) return false;
    return true;
  }

  private append(words: Uint32Array, stateId: number): number {
    const entry = this.count;
    const base = entry * this.stride;
    if (base + this.stride > this.pool.length) {
      const bigger = new Uint32Array(this.pool.length * 2);
      bigger.set(this.pool);
      this.pool = bigger;
    }
    this.pool.set(words, base);
    this.pool[base + this.words] = stateId;
    return entry;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const hashes = new Uint32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let j = 0; j < this.slots.length; j++) {
      if (this.slots[j] === 0) continue;
      let i = this.hashes[j] & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = this.slots[j];
      hashes[i] = this.hashes[j];
    }
    this.slots = slots;
    this.hashes = hashes;
  }
}

/** Interns model-state keys as small integers so the cache compares numbers, not strings. */
export class StateInterner {
  private readonly ids = new Map<string, number>();

  idOf(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(key, id);
    }
    return id;
  }
}
