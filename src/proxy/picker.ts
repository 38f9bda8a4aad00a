/**
 * Backend pickers: which instance of an app gets the next request. Pure and
 * deterministic (time comes in as `nowMs`, no randomness); a picker's only
 * state is its own rotation, so it is rebuilt with every table and never
 * shared across tables.
 *
 *   roundrobin  smooth weighted round robin (nginx's algorithm): over any
 *               window of sum-of-weights picks each backend gets its exact
 *               share, interleaved, so a 20 % canary gets every fifth request.
 *   leastconn   fewest requests in flight relative to weight; ties rotate.
 *   source      client-IP affinity by weighted rendezvous hashing: a client
 *               keeps its instance while that instance stays, and only the
 *               clients of a removed instance move.
 *
 * Every picker skips backends in `tried` (this request's failed attempts)
 * and ejected backends; when every untried backend is ejected it fails open
 * and picks among them anyway (an ejection is a guess, a 503 is certain).
 */
import type { Backend } from './route-table.ts';

export type BalanceMode = 'roundrobin' | 'leastconn' | 'source';

export interface Picker {
  /** The backend for one attempt, or undefined when every backend was tried. */
  pick(clientIp: string, nowMs: number, tried: readonly Backend[] | null): Backend | undefined;
}

export function createPicker(mode: BalanceMode, backends: readonly Backend[]): Picker {
  switch (mode) {
    case 'roundrobin': return new SmoothWeightedPicker(backends);
    case 'leastconn': return new LeastConnPicker(backends);
    case 'source': return new RendezvousPicker(backends);
  }
}

function isUsable(b: Backend, nowMs: number, tried: readonly Backend[] | null, ignoreEjection: boolean): boolean {
  if (tried !== null && tried.includes(b)) return false;
  return ignoreEjection || b.state.ejectedUntilMs <= nowMs;
}

/** Weights become integers on this scale, so the rotation sums exactly (1/3 + 1/3 + 1/3 is not 1 in floats). */
const weightScale = 1_000_000;

export class SmoothWeightedPicker implements Picker {
  private readonly current: Float64Array;
  private readonly weights: Float64Array;
  constructor(private readonly backends: readonly Backend[]) {
    this.current = new Float64Array(backends.length);
    this.weights = Float64Array.from(backends, (b) => Math.max(1, Math.round(b.weight * weightScale)));
  }

  pick(_clientIp: string, nowMs: number, tried: readonly Backend[] | null): Backend | undefined {
    return this.pickOnce(nowMs, tried, false) ?? this.pickOnce(nowMs, tried, true);
  }

  private pickOnce(nowMs: number, tried: readonly Backend[] | null, ignoreEjection: boolean): Backend | undefined {
    const bs = this.backends;
    const cur = this.current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < bs.length; i++) {
      const b = bs[i] as Backend;
      if (!isUsable(b, nowMs, tried, ignoreEjection)) continue;
      const w = this.weights[i] as number;
      cur[i] = (cur[i] as number) + w;
      total += w;
      if (best < 0 || (cur[i] as number) > (cur[best] as number)) best = i;
    }
    if (best < 0) return undefined;
    cur[best] = (cur[best] as number) - total;
    return bs[best];
  }
}

export class LeastConnPicker implements Picker {
  private rotation = 0;
  constructor(private readonly backends: readonly Backend[]) {}

  pick(_clientIp: string, nowMs: number, tried: readonly Backend[] | null): Backend | undefined {
    return this.pickOnce(nowMs, tried, false) ?? this.pickOnce(nowMs, tried, true);
  }

  private pickOnce(nowMs: number, tried: readonly Backend[] | null, ignoreEjection: boolean): Backend | undefined {
    const bs = this.backends;
    const n = bs.length;
    if (n === 0) return undefined;
    const start = this.rotation++ % n;
    let best: Backend | undefined;
    let bestScore = Infinity;
    for (let k = 0; k < n; k++) {
      const b = bs[(start + k) % n] as Backend;
      if (!isUsable(b, nowMs, tried, ignoreEjection)) continue;
      const score = (b.state.active + 1) / b.weight;
      if (score < bestScore) {
        bestScore = score;
        best = b;
      }
    }
    return best;
  }
}

export class RendezvousPicker implements Picker {
  private readonly seeds: Uint32Array;
  constructor(private readonly backends: readonly Backend[]) {
    this.seeds = Uint32Array.from(backends, (b) => fnv1a(b.taskId, 0x811c9dc5));
  }

  pick(clientIp: string, nowMs: number, tried: readonly Backend[] | null): Backend | undefined {
    return this.pickOnce(clientIp, nowMs, tried, false) ?? this.pickOnce(clientIp, nowMs, tried, true);
  }

  private pickOnce(clientIp: string, nowMs: number, tried: readonly Backend[] | null, ignoreEjection: boolean): Backend | undefined {
    const ipHash = fnv1a(clientIp, 0x811c9dc5);
    let best: Backend | undefined;
    let bestScore = -Infinity;
    for (let i = 0; i < this.backends.length; i++) {
      const b = this.backends[i] as Backend;
      if (!isUsable(b, nowMs, tried, ignoreEjection)) continue;
      // u in (0, 1); -w/ln(u) makes each backend win with probability w/Σw.
      const u = (mix32(ipHash ^ (this.seeds[i] as number)) + 0.5) / 4294967296;
      const score = -b.weight / Math.log(u);
      if (score > bestScore) {
        bestScore = score;
        best = b;
      }
    }
    return best;
  }
}

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** murmur3's finalizer: spreads the bits of a 32-bit value. */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
