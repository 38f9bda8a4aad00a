/**
 * One agent as the allocator sees it: its total, its free pool, and what each
 * (framework, role) holds on it (tasks + outstanding offers).
 *
 * Invariants:
 *  - free + sum(allocations) == total, except where a caller reported more in
 *    use than the agent has (then free is clamped at empty, never negative).
 *  - `free` never carries allocation_info; the vectors `freeUnreserved` and
 *    `freeReserved` always match `free` (recomputed on every change), so the
 *    allocator's hot loop reads numbers only.
 *  - `offeredTo` lists frameworks holding an outstanding offer here.
 * No I/O here.
 */
import type { Attribute, Resource } from '../../protocol/resource-types.ts';
import {
  UNRESERVED_ROLE,
  add,
  addResourceToVector,
  identical,
  resourceRole,
  subtract,
  subtractSaturating,
  toVector,
  trySubtract,
  zeroVector,
  type ResourceVector,
} from '../../common/resources.ts';

export interface AllocationEntry {
  frameworkId: string;
  role: string;
  resources: Resource[];
}

export class AgentState {
  readonly id: string;
  hostname: string;
  attributes: Attribute[];
  active: boolean;
  total: Resource[] = [];
  totalVector: ResourceVector = zeroVector();
  free: Resource[] = [];
  freeUnreserved: ResourceVector = zeroVector();
  /** Free reserved resources by role; null when nothing reserved is free (the common case). */
  freeReserved: Map<string, ResourceVector> | null = null;
  /**
   * What each (framework, role) holds here (free-pool form). A small array:
   * an agent hosts few frameworks, and a scan beats a Map per offer.
   */
  readonly allocations: AllocationEntry[] = [];
  /** Frameworks with an outstanding offer on this agent; null when none. */
  offeredTo: string[] | null = null;
  /** Position in the core's agent list (swap-remove bookkeeping). */
  listIndex = -1;

  constructor(id: string, hostname: string, attributes: Attribute[], active: boolean) {
    this.id = id;
    this.hostname = hostname;
    this.attributes = attributes;
    this.active = active;
  }

  get hasGpus(): boolean {
    return this.totalVector.gpus > 0;
  }

  setTotal(total: Resource[]): void {
    this.total = add(total, []);
    this.totalVector = toVector(this.total);
    this.recomputeFree();
  }

  /** free = total - everything allocated (clamped). */
  recomputeFree(): void {
    let used: Resource[] = [];
    for (const e of this.allocations) used = used.concat(e.resources);
    this.setFree(subtractSaturating(this.total, used));
  }

  setFree(free: Resource[]): void {
    this.free = free;
    const unres = zeroVector();
    let byRole: Map<string, ResourceVector> | null = null;
    for (const r of free) {
      const role = resourceRole(r);
      if (role === UNRESERVED_ROLE) {
        addResourceToVector(unres, r);
      } else {
        byRole ??= new Map();
        let v = byRole.get(role);
        if (v === undefined) {
          v = zeroVector();
          byRole.set(role, v);
        }
        addResourceToVector(v, r);
      }
    }
    this.freeUnreserved = unres;
    this.freeReserved = byRole;
  }

  /** Free cpus a framework in `role` could be offered. */
  availableCpus(role: string): number {
    const res = this.freeReserved?.get(role);
    return res === undefined ? this.freeUnreserved.cpus : this.freeUnreserved.cpus + res.cpus;
  }

  availableMemMb(role: string): number {
    const res = this.freeReserved?.get(role);
    return res === undefined ? this.freeUnreserved.memMb : this.freeUnreserved.memMb + res.memMb;
  }

  /** Whether anything (tracked) is free for `role`. */
  hasAnyFor(role: string): boolean {
    const u = this.freeUnreserved;
    if (u.cpus > 0 || u.memMb > 0 || u.diskMb > 0 || u.gpus > 0 || u.ports > 0) return true;
    const res = this.freeReserved?.get(role);
    return res !== undefined && (res.cpus > 0 || res.memMb > 0 || res.diskMb > 0 || res.gpus > 0 || res.ports > 0);
  }

  /** The free resources a framework in `role` may be offered (unreserved + reserved for role). */
  freeFor(role: string): Resource[] {
    if (this.freeReserved === null) return this.free;
    return this.free.filter((r) => {
      const rr = resourceRole(r);
      return rr === UNRESERVED_ROLE || rr === role;
    });
  }

  /** Moves everything free for `role` to the (framework, role) allocation; returns it. */
  takeFor(frameworkId: string, role: string): Resource[] {
    let taken: Resource[];
    if (this.freeReserved === null) {
      taken = this.free;
      this.free = [];
      this.freeUnreserved = zeroVector();
    } else {
      taken = [];
      const rest: Resource[] = [];
      for (const r of this.free) {
        const rr = resourceRole(r);
        if (rr === UNRESERVED_ROLE || rr === role) taken.push(r);
        else rest.push(r);
      }
      this.setFree(rest);
    }
    this.addAllocation(frameworkId, role, taken);
    return taken;
  }

  addAllocation(frameworkId: string, role: string, rs: Resource[]): void {
    const e = this.entry(frameworkId, role);
    if (e === undefined) this.allocations.push({ frameworkId, role, resources: rs });
    else e.resources = add(e.resources, rs);
  }

  /** The (framework, role) holding here, if any. */
  entry(frameworkId: string, role: string): AllocationEntry | undefined {
    for (const e of this.allocations) if (e.frameworkId === frameworkId && e.role === role) return e;
    return undefined;
  }

  /** Whether the framework holds anything here (in any role). */
  holds(frameworkId: string): boolean {
    for (const e of this.allocations) if (e.frameworkId === frameworkId) return true;
    return false;
  }

  /** The framework's holdings here, one per role. */
  heldBy(frameworkId: string): AllocationEntry[] {
    return this.allocations.filter((e) => e.frameworkId === frameworkId);
  }

  /**
   * Returns `rs` (free-pool form) held by (framework, role) to the free pool
   * and gives back what was recovered: all of `rs`, or nothing when (framework,
   * role) does not hold all of it here.
   */
  release(frameworkId: string, role: string, rs: Resource[]): Resource[] {
    const e = this.entry(frameworkId, role);
    if (e === undefined) return [];
    let recovered: Resource[];
    let kept: Resource[] | undefined;
    if (identical(e.resources, rs)) {
      // Fast path: a whole offer declined (the common case).
      recovered = e.resources;
      kept = [];
    } else {
      // All or nothing: a bogus recovery must not take back resources of an outstanding offer.
      kept = trySubtract(e.resources, rs);
      if (kept === undefined) return [];
      recovered = subtract(e.resources, kept);
    }
    if (kept.length === 0) this.allocations.splice(this.allocations.indexOf(e), 1);
    else e.resources = kept;
    this.giveBack(recovered);
    return recovered;
  }

  /** Returns everything of one holding to the free pool; gives back what it held. */
  releaseEntry(e: AllocationEntry): Resource[] {
    const i = this.allocations.indexOf(e);
    if (i < 0) return [];
    this.allocations.splice(i, 1);
    this.giveBack(e.resources);
    return e.resources;
  }

  private giveBack(rs: Resource[]): void {
    if (rs.length > 0) this.setFree(this.free.length === 0 ? rs : add(this.free, rs));
  }

  markOffered(frameworkId: string): void {
    if (this.offeredTo === null) this.offeredTo = [frameworkId];
    else if (!this.offeredTo.includes(frameworkId)) this.offeredTo.push(frameworkId);
  }

  clearOffered(frameworkId: string): void {
    if (this.offeredTo === null) return;
    const i = this.offeredTo.indexOf(frameworkId);
    if (i >= 0) this.offeredTo.splice(i, 1);
    if (this.offeredTo.length === 0) this.offeredTo = null;
  }

  hasOfferFor(frameworkId: string): boolean {
    return this.offeredTo !== null && this.offeredTo.includes(frameworkId);
  }
}
