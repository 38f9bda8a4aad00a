/**
 * MasterNode: the I/O shell around MasterCore. It owns the open event streams
 * (by stream id), performs the core's effects in order, runs allocation
 * (coalesced with setImmediate after any change, and every
 * allocationIntervalMs) and housekeeping ticks on the Clock, and measures
 * allocation cycle time for /metrics.
 *
 * Invariants: effects are performed in emission order; pumping is not
 * re-entrant (a stream closing while we pump queues its consequences for the
 * same loop); every timer is cancelled by stop().
 */
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../common/clock.ts';
import type { Logger } from '../common/log.ts';
import { describeEffect, type Effect } from './effects.ts';
import type { EventStream } from './event-stream.ts';
import type { MasterCore } from './master-core.ts';
import { Summary } from './metrics.ts';

export interface MasterNodeOptions {
  readonly core: MasterCore;
  readonly clock: Clock;
  readonly allocationIntervalMs: number;
  /** How often liveness/failover/offer timeouts are checked. */
  readonly tickIntervalMs: number;
  readonly log: Logger;
}

export class MasterNode {
  readonly core: MasterCore;
  readonly clock: Clock;
  readonly allocationCycle = new Summary();
  private readonly opts: MasterNodeOptions;
  private readonly streams = new Map<string, EventStream>();
  private pumping = false;
  private allocationQueued = false;
  private allocationTimer: TimerHandle | undefined;
  private tickTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(opts: MasterNodeOptions) {
    this.opts = opts;
    this.core = opts.core;
    this.clock = opts.clock;
  }

  start(): void {
    this.scheduleAllocationTimer();
    this.scheduleTick();
  }

  stop(): void {
    this.stopped = true;
    this.allocationTimer?.cancel();
    this.tickTimer?.cancel();
    for (const s of [...this.streams.values()]) s.close('master shutting down');
    this.streams.clear();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  registerStream(stream: EventStream): void {
    this.streams.set(stream.streamId, stream);
  }

  unregisterStream(streamId: string): void {
    this.streams.delete(streamId);
  }

  /** Performs queued effects until the outbox is empty. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const effects = this.core.drain();
        if (effects.length === 0) break;
        for (const e of effects) this.perform(e);
      }
    } finally {
      this.pumping = false;
    }
  }

  private perform(e: Effect): void {
    try {
      switch (e.kind) {
        case 'framework-event':
        case 'agent-event': {
          const sent = this.streams.get(e.streamId)?.send(e.event) ?? false;
          if (e.event.type !== 'HEARTBEAT') this.opts.log.debug({ sent }, describeEffect(e));
          break;
        }
        case 'close-stream': {
          const s = this.streams.get(e.streamId);
          this.streams.delete(e.streamId);
          s?.close(e.reason);
          break;
        }
        case 'allocate':
          this.queueAllocation();
          break;
      }
    } catch (err) {
      this.opts.log.error({ err, effect: describeEffect(e) }, 'effect failed');
    }
  }

  /** Runs an allocation soon (coalescing every request made in the same turn). */
  queueAllocation(): void {
    if (this.allocationQueued || this.stopped) return;
    this.allocationQueued = true;
    setImmediate(() => {
      this.allocationQueued = false;
      if (!this.stopped) this.allocateNow();
    });
  }

  allocateNow(): number {
    const t0 = performance.now();
    let n = 0;
    try {
      n = this.core.allocate(this.clock.nowMs());
    } catch (err) {
      this.opts.log.error({ err }, 'allocation cycle failed');
    }
    this.allocationCycle.observe((performance.now() - t0) / 1000);
    this.pump();
    return n;
  }

  tickNow(): void {
    try {
      this.core.tick(this.clock.nowMs());
    } catch (err) {
      this.opts.log.error({ err }, 'housekeeping tick failed');
    }
    this.pump();
  }

  private scheduleAllocationTimer(): void {
    if (this.stopped || this.opts.allocationIntervalMs <= 0) return;
    this.allocationTimer = this.clock.setTimer(this.opts.allocationIntervalMs, () => {
      this.allocateNow();
      this.scheduleAllocationTimer();
    });
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.tickTimer = this.clock.setTimer(this.opts.tickIntervalMs, () => {
      this.tickNow();
      this.scheduleTick();
    });
  }
}
