/**
 * Host-port choice. With `requirePorts` the app gets exactly the ports it
 * names; otherwise every port is picked from the offer, as Marathon does:
 * the free ranges are shuffled, a random start index is drawn over their
 * concatenation, and the ports are taken consecutively from there with
 * wrap-around. Random, so that one app's freed port is rarely handed straight
 * to another app before load balancers have caught up; consecutive, so the
 * ranges do not fragment.
 *
 * Pure given the `Random`; no I/O.
 */

import type { Random } from '../../common/random.ts';
import { randomInt } from '../../common/random.ts';
import type { FreeRange } from './offer-slot.ts';

/** `count` distinct ports from `free`, or undefined when there are fewer. */
export function pickDynamicPorts(free: readonly FreeRange[], count: number, random: Random): number[] | undefined {
  if (count === 0) return [];
  const shuffled = [...free];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = randomInt(random, 0, i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  let total = 0;
  for (const r of shuffled) total += r.end - r.begin + 1;
  if (total < count) return undefined;
  let index = randomInt(random, 0, total);
  const out: number[] = [];
  for (let k = 0; k < count; k++, index = (index + 1) % total) out.push(portAt(shuffled, index));
  return out;
}

function portAt(ranges: readonly FreeRange[], index: number): number {
  let i = index;
  for (const r of ranges) {
    const size = r.end - r.begin + 1;
    if (i < size) return r.begin + i;
    i -= size;
  }
  throw new Error(`invariant: port index ${index} beyond the free ranges`);
}
