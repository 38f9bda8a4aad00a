/**
 * Tells the primary how many client connections a worker holds (and has
 * adopted), soon after that changes and never more than once per
 * `reportCoalesceMs`: a burst of accepts or closes is one message. A slow
 * poll catches anything else.
 */
import type { WorkerLoad } from './accept-balancer.ts';

export const reportCoalesceMs = 10;
export const reportPollMs = 250;

export class LoadReporter {
  private last = '';
  private pending: NodeJS.Timeout | null = null;
  private readonly poll: NodeJS.Timeout;

  constructor(private readonly current: () => WorkerLoad, private readonly report: (load: WorkerLoad) => void) {
    this.poll = setInterval(this.flush, reportPollMs);
    this.poll.unref();
  }

  /** The count may have changed: report within `reportCoalesceMs`. */
  changed(): void {
    if (this.pending !== null) return;
    this.pending = setTimeout(this.flush, reportCoalesceMs);
    this.pending.unref();
  }

  stop(): void {
    clearInterval(this.poll);
    if (this.pending !== null) clearTimeout(this.pending);
    this.pending = null;
  }

  private readonly flush = (): void => {
    this.pending = null;
    const load = this.current();
    const key = JSON.stringify(load);
    if (key === this.last) return;
    this.last = key;
    this.report(load);
  };
}
