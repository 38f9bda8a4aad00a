/**
 * A `Clock` for one incarnation of a simulated server: timers are events on
 * the simulator's queue, stretched by the server's drift (its clock runs a
 * few percent fast or slow), and `kill()` silences every timer at once — a
 * crashed process keeps no timers. `nowMs()` is the server's drifted local time.
 */
import type { Clock, TimerHandle } from '../../src/common/clock.ts';
import type { EventQueue } from './event-queue.ts';

export class SimClock implements Clock {
  private alive = true;

  /** `drift` is the fractional rate error: 0.03 means 3 % slow timers. */
  constructor(
    private readonly queue: EventQueue,
    private readonly drift: number,
  ) {}

  nowMs(): number {
    return this.queue.now * (1 - this.drift);
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    let cancelled = false;
    this.queue.after(Math.max(0, delayMs) * (1 + this.drift), () => {
      if (!cancelled && this.alive) fn();
    });
    return { cancel: () => { cancelled = true; } };
  }

  kill(): void {
    this.alive = false;
  }
}
