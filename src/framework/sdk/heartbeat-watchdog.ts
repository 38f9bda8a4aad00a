/**
 * Detects a silent subscription stream: the master sends HEARTBEAT every
 * `heartbeat_interval_seconds`; if nothing at all arrives for
 * `missedHeartbeatsAllowed` intervals the stream is presumed dead (half-open
 * TCP, a frozen master) and `onExpired` fires once.
 *
 * Time comes only from the injected Clock. Invariant: at most one timer armed;
 * after `stop()` or expiry nothing fires again until `start()`.
 */
import type { Clock, TimerHandle } from '../../common/clock.ts';

/** Mesos' own guidance: reconnect when ~2 heartbeats in a row are missing. */
export const missedHeartbeatsAllowed = 2;

export class HeartbeatWatchdog {
  private timer: TimerHandle | undefined;
  private timeoutMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onExpired: (silentForMs: number) => void,
  ) {}

  /** (Re)arms with the interval announced in SUBSCRIBED. */
  start(heartbeatIntervalMs: number): void {
    this.timeoutMs = Math.max(1, heartbeatIntervalMs) * missedHeartbeatsAllowed;
    this.arm();
  }

  /** Any event (or byte) from the master proves the stream alive. */
  touch(): void {
    if (this.timer !== undefined) this.arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    this.timer?.cancel();
    const timeoutMs = this.timeoutMs;
    this.timer = this.clock.setTimer(timeoutMs, () => {
      this.timer = undefined;
      this.onExpired(timeoutMs);
    });
  }
}
