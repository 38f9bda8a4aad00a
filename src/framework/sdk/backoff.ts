/**
 * Reconnect backoff for the scheduler SDK: capped exponential with full jitter
 * ("decorrelates" many frameworks reconnecting to a restarted master).
 *
 * Pure: randomness comes in as a `Random`; no timers here.
 * Invariant: the result is always in [minMs, maxMs].
 */
import type { Random } from '../../common/random.ts';

export interface BackoffPolicy {
  /** Delay floor, also the first step's ceiling. */
  readonly minMs: number;
  /** Cap: no wait is ever longer than this, however many attempts failed. */
  readonly maxMs: number;
}

export const defaultBackoffPolicy: BackoffPolicy = { minMs: 250, maxMs: 15_000 };

/** The cap on the exponent keeps 2**attempt finite for absurd attempt counts. */
const maxBackoffExponent = 30;

/** Wait before reconnect attempt number `attempt` (0 = first retry). */
export function computeBackoffMs(attempt: number, policy: BackoffPolicy, rng: Random): number {
  const exp = Math.min(Math.max(0, Math.floor(attempt)), maxBackoffExponent);
  const ceiling = Math.min(policy.maxMs, policy.minMs * 2 ** exp);
  const span = Math.max(0, ceiling - policy.minMs);
  return Math.round(policy.minMs + rng.next() * span);
}
