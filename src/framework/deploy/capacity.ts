/**
 * The upgrade strategy's two bounds, as Marathon computes them
 * (TaskReplaceActor.computeRestartStrategy):
 *
 *   minimum ready  = ⌈total × minimumHealthCapacity⌉
 *   maximum live   = ⌊total × (1 + maximumOverCapacity)⌋
 *
 * and Marathon's one exception: when the two are equal (minimumHealthCapacity
 * 1, maximumOverCapacity 0, or a small count) and the app already has that
 * many ready, nothing could ever be replaced, so one instance over the
 * maximum is allowed ("temporary over-capacity of one").
 *
 * Deliberate difference: the products are rounded to 1e-9 before ⌈⌉ and ⌊⌋,
 * so 10 × 0.7 gives 7 (Marathon's doubles give 8) and 10 × 1.1 gives 11.
 *
 * Pure; no I/O.
 */

import type { UpgradeStrategy } from './types.ts';

const EPSILON = 1e-9;

export interface CapacityBounds {
  /** Ready instances that must remain (kills that would go below are held back). */
  readonly minReady: number;
  /** Live instances (any status, killing included) that may exist at once. */
  readonly maxLive: number;
  /** Whether Marathon's +1 over-capacity exception applies. */
  readonly overCapacityException: boolean;
}

export function minReadyOf(total: number, s: UpgradeStrategy): number {
  return Math.max(0, Math.ceil(total * s.minimumHealthCapacity - EPSILON));
}

export function maxLiveOf(total: number, s: UpgradeStrategy): number {
  return Math.max(0, Math.floor(total * (1 + s.maximumOverCapacity) + EPSILON));
}

/** The bounds for `total` target instances when `ready` are ready now. */
export function computeCapacity(total: number, s: UpgradeStrategy, ready: number): CapacityBounds {
  const minReady = minReadyOf(total, s);
  const maxLive = maxLiveOf(total, s);
  const exception = total > 0 && minReady === maxLive && maxLive <= ready;
  return { minReady, maxLive: exception ? maxLive + 1 : maxLive, overCapacityException: exception };
}
