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

/** Connections that live less than this on average are not worth a pass while they churn: see `noteClosed`. */
export const minLifetimeToPassMs = 1_000;

/** Closes a second (per worker) from which short-lived connections count as churn. */
export const churnClosesPerSecond = 100;

/** Weight of the newest closed connection in the lifetime average. */
const lifetimeWeight = 0.05;

export class AcceptBalancer {
  /** Average lifetime of this worker's recently closed client connections (undefined: none closed yet). */
  private lifetimeMs: number | undefined;
  /** Closes in the current whole second of the clock (`closeSecond`) and in the one before it. */
  private closeSecond = -Infinity;
  private closesThisSecond = 0;
  private closesLastSecond = 0;
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
   * A client connection closed after `lifetimeMs`. Where connections are
   * short-lived (one request each, say) the kernel already spreads them:
   * the worker that is idle in its poll accepts the next one, and an
   * imbalance is gone within a lifetime. Passing them would only spend an
   * IPC round per connection (measured: 10 % of connections passed, 15 %
   * fewer connections a second), so a worker does not pass while such
   * churn goes on: a short average lifetime, and `churnClosesPerSecond` or
   * more closes in this second or the one before. Long-lived connections,
   * a trickle of short ones (health checks, curl), or a burst that comes
   * after the churn stopped are passed.
   */
  noteClosed(lifetimeMs: number, nowMs: number): void {
    this.rollSecond(nowMs);
    this.closesThisSecond++;
    this.lifetimeMs = this.lifetimeMs === undefined ? lifetimeMs : this.lifetimeMs + lifetimeWeight * (lifetimeMs - this.lifetimeMs);
  }

  /**
   * `mine`: this worker's client connections, not counting the new one.
   * Returns the slot to pass the new connection to, or undefined to keep it.
   */
  placeNew(mine: number, nowMs: number): number | undefined {
    this.rollSecond(nowMs);
    const churning = this.lifetimeMs !== undefined && this.lifetimeMs < minLifetimeToPassMs && Math.max(this.closesThisSecond, this.closesLastSecond) >= churnClosesPerSecond;
    if (churning) return undefined;
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

  private rollSecond(nowMs: number): void {
    const second = Math.floor(nowMs / 1_000);
    if (second === this.closeSecond) return;
    this.closesLastSecond = second === this.closeSecond + 1 ? this.closesThisSecond : 0;
    this.closesThisSecond = 0;
    this.closeSecond = second;
  }
}

/**
 * How far ahead of the least-loaded worker a worker may run before it
 * passes connections on: one connection at any size (a pass costs an IPC
 * round through the primary), and a thirty-second of its load when that
 * is large (thousands of connections wobble by about their square root,
 * and chasing that would pass a connection on every accept). Under churn
 * nothing is passed at all (`placeNew`). An eighth, as it was, left
 * wrk's 64 connections split up to 29/35 at 2 workers, and the busier
 * worker set the p99: against HAProxy's 2 threads, cygnet's p99 was
 * 1.108-1.136 of HAProxy's round by round (3 runs of 10-14 rounds), and
 * 1.020-1.043 with the slack at one or a thirty-second (splits 31/33 at
 * worst but for one round).
 */
export function slackFor(mine: number): number {
  return 1 + Math.floor(mine / 32);
}
