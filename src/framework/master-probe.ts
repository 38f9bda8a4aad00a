/**
 * Whether this replica can reach a master right now: a GET of the master's
 * /master/health every `intervalMs`, answered within `timeoutMs`. Every
 * replica runs one, leader or not, because leadership should sit with a
 * replica that can reach the master (see abdication.ts): the acting leader
 * learns from its own probe that it is cut off (a silent network leaves its
 * subscription stream open, and only the missed heartbeats, 2 × 15 s, would
 * tell), and the followers' probes say which of them could take over.
 *
 * Time comes from the Clock; `check` is the network part, injected so the
 * policy can be driven in tests.
 */
import { Agent, request } from 'undici';
import type { Clock, TimerHandle } from '../common/clock.ts';

export const probeIntervalMs = 1_000;
export const probeTimeoutMs = 2_000;

/** One attempt: true when `master` (host:port or a URL) answered its health check. */
export type MasterCheck = (master: string, timeoutMs: number) => Promise<boolean>;

const probeAgent = new Agent({ connect: { timeout: probeTimeoutMs }, keepAliveTimeout: 10_000, connections: 2 });

export const httpMasterCheck: MasterCheck = async (master, timeoutMs) => {
  const base = master.startsWith('http') ? master.replace(/\/$/, '') : `http://${master}`;
  try {
    const res = await request(`${base}/master/health`, { dispatcher: probeAgent, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
};

export interface MasterProbeOptions {
  readonly masters: readonly string[];
  readonly clock: Clock;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly check?: MasterCheck;
}

export class MasterProbe {
  /** When a master last answered (clock ms), undefined before the first answer. */
  private lastReached: number | undefined;
  private readonly startedAt: number;
  /** Which master to try first: the one that answered last. */
  private preferred = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly check: MasterCheck;

  constructor(private readonly o: MasterProbeOptions) {
    this.intervalMs = o.intervalMs ?? probeIntervalMs;
    this.timeoutMs = o.timeoutMs ?? probeTimeoutMs;
    this.check = o.check ?? httpMasterCheck;
    this.startedAt = o.clock.nowMs();
  }

  start(): void {
    void this.round();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Clock ms of the last answer, or undefined. */
  get lastReachedMs(): number | undefined {
    return this.lastReached;
  }

  /** A master answered within the last `ms`. */
  reachedWithin(ms: number): boolean {
    return this.lastReached !== undefined && this.o.clock.nowMs() - this.lastReached <= ms;
  }

  /** How long no master has answered: since the last answer, or since the probe started if none ever did. */
  silentForMs(): number {
    return this.o.clock.nowMs() - (this.lastReached ?? this.startedAt);
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const n = this.o.masters.length;
    for (let k = 0; k < n && !this.stopped; k++) {
      const i = (this.preferred + k) % n;
      if (await this.check(this.o.masters[i] as string, this.timeoutMs)) {
        this.preferred = i;
        this.lastReached = this.o.clock.nowMs();
        break;
      }
    }
    if (!this.stopped) this.timer = this.o.clock.setTimer(this.intervalMs, () => { void this.round(); });
  }
}
