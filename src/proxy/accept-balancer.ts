/**
 * Where a multi-worker proxy's freshly accepted connection should live.
 *
 * Workers accept on one shared socket (SCHED_NONE), and the worker that
 * wakes first takes every connection pending: a client that opens its 64
 * kept-alive connections at once lands them all on one worker, and the
 * other idles for the life of those connections. A worker that accepts a
 * connection while it holds clearly more than another worker passes it on
 * (over IPC, through the primary) before reading a byte of it. What it
 * knows of the others is their last reported count plus what it has passed
 * them that they had not yet adopted when they reported, so a burst splits
 * evenly before any report arrives, and a report that overtakes passes
 * still on the way does not make it pass too many.
 *
 * Pure: counts in, a slot (or keep) out.
 */
/** What a worker last reported: its client connections, and how many connections it has adopted from each other slot so far. */
export interface WorkerLoad {
  readonly connections: number;
  readonly adoptedFrom: Readonly<Record<string, number>>;
}

export class AcceptBalancer {
  /** Other workers' last reports, by slot. */
  private readonly reported = new Map<number, WorkerLoad>();
  /** Connections passed to each slot since it (re)appeared: with its `adoptedFrom[us]`, what is still on the way. */
  private readonly passed = new Map<number, number>();

  constructor(readonly slot: number) {}

  /** The primary's latest reports, by slot (this worker's own entry is ignored). */
  update(loads: Readonly<Record<string, WorkerLoad>>): void {
    const seen = new Set<number>();
    for (const [key, load] of Object.entries(loads)) {
      const slot = Number(key);
      if (slot === this.slot || !Number.isInteger(slot) || !Number.isFinite(load.connections)) continue;
      seen.add(slot);
      this.reported.set(slot, load);
      if (!this.passed.has(slot)) this.passed.set(slot, 0);
    }
    // A worker missing from the reports is gone (or not started): nothing goes to it, and a new one in its slot starts from zero.
    for (const slot of [...this.reported.keys()]) {
      if (!seen.has(slot)) {
        this.reported.delete(slot);
        this.passed.delete(slot);
      }
    }
  }

  /**
   * `mine`: this worker's client connections, not counting the new one.
   * Returns the slot to pass the new connection to, or undefined to keep it.
   */
  placeNew(mine: number): number | undefined {
    let best: number | undefined;
    let bestCount = Infinity;
    for (const [slot, load] of this.reported) {
      // Its count, plus what we passed it that it had not adopted when it reported.
      const onTheWay = Math.max(0, (this.passed.get(slot) ?? 0) - (load.adoptedFrom[String(this.slot)] ?? 0));
      const estimate = load.connections + onTheWay;
      if (estimate < bestCount) {
        best = slot;
        bestCount = estimate;
      }
    }
    if (best === undefined || mine <= bestCount + slackFor(mine)) return undefined;
    this.passed.set(best, (this.passed.get(best) ?? 0) + 1);
    return best;
  }
}

/**
 * How far ahead of the least-loaded worker a worker may run before it
 * passes connections on: a little at any size (a pass costs an IPC round
 * through the primary), an eighth of its load when it is large (under
 * connection churn the counts wobble by about their square root, and
 * chasing that would pass a connection on every accept).
 */
export function slackFor(mine: number): number {
  return 1 + Math.floor(mine / 8);
}
