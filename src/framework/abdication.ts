/**
 * When the acting leader should hand its leadership to another replica: it
 * has not reached the master for `afterMs` (its master probe), so it can
 * neither launch nor kill, while a follower that can reach the master could.
 * Marathon does the same: a scheduler disconnected from the master stops its
 * driver and abdicates, and another instance takes over.
 *
 * Leadership only moves to a replica that reached the master a moment ago
 * (chooseSuccessor), so when the master is down for everyone nobody moves
 * and leadership does not bounce between replicas. A new leader is given
 * `afterMs` before it may abdicate in turn, and a leader that found no
 * successor asks again only `afterMs` later.
 *
 * Pure: time comes in as arguments.
 */

/** Default of `--abdicate-after`. */
export const defaultAbdicateAfterMs = 6_000;

/** A follower that reached the master within this long counts as able to reach it. */
export const masterReachableWithinMs = 3_000;

/** What a replica says of itself on GET /v1/cluster, as far as choosing a successor needs. */
export interface ReplicaReport {
  readonly id: number;
  readonly role: string;
  readonly applied: number;
  readonly masterReachable: boolean;
}

export class Abdication {
  private actingSince: number | undefined;
  private lastAttempt = -Infinity;

  /** `afterMs` 0: never abdicate. */
  constructor(private readonly afterMs: number) {}

  /**
   * Called on every role check. True when the leader should look for a
   * successor now: acting, no master reached for `afterMs` (counted from
   * when it started acting at the earliest), and no search in the last
   * `afterMs`.
   */
  due(nowMs: number, acting: boolean, masterSilentForMs: number): boolean {
    if (!acting || this.afterMs <= 0) {
      this.actingSince = undefined;
      return false;
    }
    this.actingSince ??= nowMs;
    const silentMs = Math.min(masterSilentForMs, nowMs - this.actingSince);
    if (silentMs < this.afterMs || nowMs - this.lastAttempt < this.afterMs) return false;
    this.lastAttempt = nowMs;
    return true;
  }
}

/** The follower to hand leadership to: one that reaches the master, the most caught up first (the transfer waits for it to catch up fully). */
export function chooseSuccessor(self: number, reports: readonly ReplicaReport[]): number | undefined {
  let best: ReplicaReport | undefined;
  for (const r of reports) {
    if (r.id === self || r.role !== 'follower' || !r.masterReachable) continue;
    if (best === undefined || r.applied > best.applied || (r.applied === best.applied && r.id < best.id)) best = r;
  }
  return best?.id;
}
