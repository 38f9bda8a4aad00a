/**
 * One offer during a placement round: what is left of it after the launches
 * already planned on it. Resources keep their identity (role, reservations,
 * allocation_info) so the launch's TaskInfo resources are exactly pieces of
 * what was offered, as the master requires.
 *
 * Invariants: `entries` are private copies of the offer's resources (the
 * input is never mutated); their port ranges are sorted, disjoint and merged;
 * amounts only go down; a take is all or nothing
 * (callers check with the `…Available`/`has…` methods first).
 *
 * Pure; no I/O.
 */

import { mergeRanges, rangesCount, resourceRole, roundScalar, toMilli } from '../../common/resources.ts';
import type { Offer, Range, Resource } from '../../protocol/mesos-types.ts';

/** A free port range and the offered resource it belongs to. */
export interface FreeRange {
  readonly begin: number;
  readonly end: number;
  readonly entry: number;
}

/**
 * Removes one port from sorted, disjoint ranges in place (binary search, one
 * split at most); false when the port is not there.
 */
function removePort(ranges: Range[], port: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid];
    if (port < r.begin) hi = mid - 1;
    else if (port > r.end) lo = mid + 1;
    else {
      if (r.begin === r.end) ranges.splice(mid, 1);
      else if (port === r.begin) ranges[mid] = { begin: r.begin + 1, end: r.end };
      else if (port === r.end) ranges[mid] = { begin: r.begin, end: r.end - 1 };
      else ranges.splice(mid, 1, { begin: r.begin, end: port - 1 }, { begin: port + 1, end: r.end });
      return true;
    }
  }
  return false;
}

function copyForLaunch(r: Resource): Resource {
  const out: Resource = { name: r.name, type: r.type };
  if (r.role !== undefined) out.role = r.role;
  if (r.allocation_info !== undefined) out.allocation_info = { ...r.allocation_info };
  if (r.reservations !== undefined) out.reservations = r.reservations.map((x) => ({ ...x }));
  return out;
}

export class OfferSlot {
  readonly offer: Offer;
  readonly offerId: string;
  readonly agentId: string;
  /** The role the offer was allocated to (multi-role frameworks), if it says. */
  readonly allocationRole: string | undefined;
  launches = 0;
  private readonly entries: Resource[];
  /** Per entry: its role (`*` unreserved), computed once. */
  private readonly roles: string[];
  /** Per entry: free ports left (0 for non-port resources), kept in step with `entries`. */
  private readonly portCounts: number[];

  constructor(offer: Offer) {
    this.offer = offer;
    this.offerId = offer.id.value;
    this.agentId = offer.agent_id.value;
    this.entries = (offer.resources ?? []).map((r) => ({
      ...r,
      scalar: r.scalar === undefined ? undefined : { value: r.scalar.value },
      ranges: r.ranges === undefined ? undefined : { range: mergeRanges(r.ranges.range) },
    }));
    this.roles = this.entries.map(resourceRole);
    this.portCounts = this.entries.map((r) => (r.name === 'ports' && r.ranges !== undefined ? rangesCount(r.ranges.range) : 0));
    this.allocationRole = offer.allocation_info?.role ?? offer.resources?.find((r) => r.allocation_info?.role !== undefined)?.allocation_info?.role;
  }

  /** Whether any offered resource is of an accepted role (Marathon's UnfulfilledRole test). */
  hasAcceptedRole(accepted: ReadonlySet<string>): boolean {
    return this.roles.some((role) => accepted.has(role));
  }

  /** Milli-units of a scalar left in resources of accepted roles. */
  scalarAvailableMilli(name: string, accepted: ReadonlySet<string>): number {
    let sum = 0;
    for (let k = 0; k < this.entries.length; k++) {
      const r = this.entries[k];
      if (r.name === name && r.scalar !== undefined && accepted.has(this.roles[k])) sum += toMilli(r.scalar.value);
    }
    return sum;
  }

  /** Takes `amount` of a scalar, reserved resources first (they are the app's own), then unreserved. */
  takeScalar(name: string, amount: number, accepted: ReadonlySet<string>): Resource[] {
    let left = toMilli(amount);
    const taken: Resource[] = [];
    for (const pass of [false, true]) {
      for (const r of this.entries) {
        if (left <= 0) break;
        if (r.name !== name || r.scalar === undefined || !accepted.has(resourceRole(r))) continue;
        if ((resourceRole(r) === '*') !== pass) continue;
        const have = toMilli(r.scalar.value);
        const take = Math.min(have, left);
        if (take <= 0) continue;
        r.scalar = { value: roundScalar((have - take) / 1000) };
        left -= take;
        taken.push({ ...copyForLaunch(r), scalar: { value: take / 1000 } });
      }
    }
    if (left > 0) throw new Error(`invariant: took ${name} ${amount} from offer ${this.offerId} without checking availability`);
    return taken;
  }

  /** Free port ranges of accepted roles, in offer order. */
  freePortRanges(accepted: ReadonlySet<string>): FreeRange[] {
    const out: FreeRange[] = [];
    this.entries.forEach((r, entry) => {
      if (r.name !== 'ports' || r.ranges === undefined || !accepted.has(resourceRole(r))) return;
      for (const x of r.ranges.range) out.push({ begin: x.begin, end: x.end, entry });
    });
    return out;
  }

  freePortCount(accepted: ReadonlySet<string>): number {
    let n = 0;
    for (let k = 0; k < this.entries.length; k++) if (this.portCounts[k] > 0 && accepted.has(this.roles[k])) n += this.portCounts[k];
    return n;
  }

  hasPorts(ports: readonly number[], accepted: ReadonlySet<string>): boolean {
    const free = this.freePortRanges(accepted);
    return ports.every((p) => free.some((r) => r.begin <= p && p <= r.end));
  }

  /** Takes the given host ports (each must be free); one ports resource per offered resource used. */
  takePorts(ports: readonly number[], accepted: ReadonlySet<string>): Resource[] {
    const byEntry = new Map<number, Range[]>();
    for (const p of ports) {
      const entry = this.entries.findIndex((r, k) => r.name === 'ports' && accepted.has(this.roles[k]) && r.ranges !== undefined && removePort(r.ranges.range, p));
      if (entry < 0) throw new Error(`invariant: port ${p} is not free in offer ${this.offerId}`);
      this.portCounts[entry]--;
      const list = byEntry.get(entry) ?? [];
      list.push({ begin: p, end: p });
      byEntry.set(entry, list);
    }
    const taken: Resource[] = [];
    for (const [entry, list] of [...byEntry].sort((a, b) => a[0] - b[0])) {
      taken.push({ ...copyForLaunch(this.entries[entry]), ranges: { range: mergeRanges(list) } });
    }
    return taken;
  }

  /** What is left, for describe() in transcripts. */
  remaining(): readonly Resource[] {
    return this.entries.filter((r) => (r.scalar !== undefined ? r.scalar.value > 0 : r.ranges !== undefined ? rangesCount(r.ranges.range) > 0 : true));
  }
}
