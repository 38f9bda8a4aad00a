/**
 * Randomness enters through `Random` so simulations replay from a seed.
 */

export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/** Integer in [lo, hi). */
export function randomInt(rng: Random, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo));
}

/**
 * Fisher-Yates: shuffles `items` in place, every permutation equally likely for a
 * uniform `rng` (a random-comparator sort is neither uniform nor stable across engines).
 */
export function shuffle<T>(rng: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, 0, i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** mulberry32: small, fast, good enough for scheduling jitter and simulation. */
export class SeededRandom implements Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

export const systemRandom: Random = { next: () => Math.random() };
