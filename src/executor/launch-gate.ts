/**
 * A FIFO counting gate bounding how many task launches (supervisor process
 * starts) run at once on one agent. Pure (no I/O, no timers).
 *
 * Why: each launch forks (the agent blocks in `child_process.spawn` until
 * the child has exec'd) and starts a supervisor. With the former `node`
 * supervisor (~0.1 s of CPU each on a loaded 2-core host) starting a whole
 * ACCEPT's worth (50+) at once made them all finish late and starved the
 * agent's own event loop (heartbeats); the `/bin/sh` supervisor is ~50× cheaper,
 * but a burst is still bounded so launches complete in arrival order.
 *
 * Invariants: at most `limit` functions run at once; waiters start in the
 * order they called `run`; a slot is released whether `fn` resolves or throws.
 */

/** Default bound of concurrent supervisor starts per agent (`--max-concurrent-launches`). */
export const DEFAULT_MAX_CONCURRENT_LAUNCHES = 4;
/** Upper bound accepted for the flag. */
export const MAX_CONCURRENT_LAUNCHES_LIMIT = 1024;

export class LaunchGate {
  private readonly limit: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number = DEFAULT_MAX_CONCURRENT_LAUNCHES) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`launch gate limit: expected an integer >= 1, got ${limit}`);
    this.limit = limit;
  }

  /** Launches currently running / waiting for a slot. */
  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once a slot is free (FIFO); the slot is released when it settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next(); // the slot passes straight to the next waiter
      else this.running--;
    }
  }
}
