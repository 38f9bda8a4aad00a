/**
 * Pure health-check state machine for one task (Mesos semantics). No I/O,
 * no timers: the monitor feeds check results with the time they completed
 * and acts on what comes back.
 *
 *   initializing ──ok──▶ healthy ──fail──▶ unhealthy ──ok──▶ healthy
 *        │  fail within grace period: ignored        │
 *        └─fail after grace─▶ unhealthy              └─ failures ≥ consecutive_failures ─▶ killed
 *
 * - a failure while initializing and still within grace_period_seconds of the
 *   task start is ignored (the app is still booting);
 * - every change of health is reported (`health-changed`), never a repeat;
 * - `consecutive_failures` failures in a row → `kill` once, then nothing more.
 * Defaults are Mesos': delay 15 s, interval 10 s, timeout 20 s, 3 failures,
 * grace 10 s.
 */
import type { HealthCheck } from './types.ts';

export interface HealthConfig {
  delayMs: number;
  intervalMs: number;
  timeoutMs: number;
  consecutiveFailures: number;
  gracePeriodMs: number;
}

export type HealthPhase = 'initializing' | 'healthy' | 'unhealthy' | 'killed';

export type HealthAction =
  | { kind: 'health-changed'; healthy: boolean }
  | { kind: 'kill'; message: string };

export function describeHealthAction(a: HealthAction): string {
  return a.kind === 'kill' ? `kill: ${a.message}` : `healthy=${a.healthy}`;
}

const secondsOr = (v: number | undefined, d: number): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);

export function healthConfig(check: HealthCheck): HealthConfig {
  return {
    delayMs: secondsOr(check.delay_seconds, 15) * 1000,
    intervalMs: Math.max(0.01, secondsOr(check.interval_seconds, 10)) * 1000,
    timeoutMs: Math.max(0.01, secondsOr(check.timeout_seconds, 20)) * 1000,
    consecutiveFailures: Math.max(1, Math.floor(secondsOr(check.consecutive_failures, 3))),
    gracePeriodMs: secondsOr(check.grace_period_seconds, 10) * 1000,
  };
}

export class HealthCore {
  readonly config: HealthConfig;
  private readonly startedAtMs: number;
  private phaseValue: HealthPhase = 'initializing';
  private failures = 0;

  constructor(config: HealthConfig, startedAtMs: number) {
    this.config = config;
    this.startedAtMs = startedAtMs;
  }

  get phase(): HealthPhase {
    return this.phaseValue;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** One check finished at `nowMs`; `detail` says why it failed. */
  onResult(ok: boolean, nowMs: number, detail = ''): HealthAction[] {
    if (this.phaseValue === 'killed') return [];
    if (ok) {
      this.failures = 0;
      if (this.phaseValue === 'healthy') return [];
      this.phaseValue = 'healthy';
      return [{ kind: 'health-changed', healthy: true }];
    }
    if (this.phaseValue === 'initializing' && nowMs - this.startedAtMs < this.config.gracePeriodMs) return [];
    this.failures++;
    const actions: HealthAction[] = [];
    if (this.phaseValue !== 'unhealthy') {
      this.phaseValue = 'unhealthy';
      actions.push({ kind: 'health-changed', healthy: false });
    }
    if (this.failures >= this.config.consecutiveFailures) {
      this.phaseValue = 'killed';
      actions.push({ kind: 'kill', message: `Task killed after ${this.failures} consecutive failed health checks${detail ? ` (last: ${detail})` : ''}` });
    }
    return actions;
  }
}
