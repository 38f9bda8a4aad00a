/**
 * Host-port choice. With `requirePorts` the app gets exactly the ports it
 * names; otherwise every port is picked from the offer: a start drawn
 * uniformly over all free ports (in offer order), then the following free
 * ports, wrapping around at the end. Random, so that a port one app just
 * freed is rarely handed straight to another before load balancers have
 * caught up (Marathon's reason); consecutive, so ranges do not fragment.
 * Marathon also shuffles the ranges first; that only changes which range
 * follows the end of another, so it is left out: it cost an allocation and a
 * random draw per free range on every launch, which showed in profiles of
 * 10,000-instance rounds.
 *
 * Pure given the `Random`; no I/O, no allocation but the result.
 */

import type { Random } from '../../common/random.ts';
import { randomInt } from '../../common/random.ts';
import type { Range } from '../../protocol/mesos-types.ts';

/** `count` distinct ports from the free ranges (sorted, disjoint lists), or undefined when there are fewer. */
export function pickDynamicPorts(lists: readonly (readonly Range[])[], count: number, random: Random): number[] | undefined {
  if (count === 0) return [];
  let total = 0;
  for (const list of lists) for (const r of list) total += r.end - r.begin + 1;
  if (total < count) return undefined;
  let skip = randomInt(random, 0, total);
  const out: number[] = [];
  // Two passes over the lists cover the wrap-around: the first skips to the start.
  for (let pass = 0; pass < 2 && out.length < count; pass++) {
    for (const list of lists) {
      for (const r of list) {
        const size = r.end - r.begin + 1;
        if (skip >= size) {
          skip -= size;
          continue;
        }
        for (let p = r.begin + skip; p <= r.end && out.length < count; p++) out.push(p);
        skip = 0;
        if (out.length === count) return out;
      }
    }
  }
  return out.length === count ? out : undefined;
}
