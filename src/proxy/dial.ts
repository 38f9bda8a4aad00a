/**
 * Opening a raw TCP connection to one of a route's backends, for tunnels
 * (WebSocket upgrades and TCP forwarding): pick, connect with a deadline,
 * and on a refused or timed-out connect eject that backend and try another
 * (nothing has been sent yet, so it is always safe), up to the policy's
 * attempts.
 *
 * Invariant: exactly one of `onConnected` / `onFailed` is called, unless the
 * caller cancels first; a cancelled dial leaves no socket open.
 */
import { connect, type Socket } from 'node:net';
import type { Clock } from '../common/clock.ts';
import { computeEjectionMs, type FailurePolicy } from './failure-policy.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { Picker } from './picker.ts';
import type { Backend } from './route-table.ts';

export interface DialDeps {
  readonly clock: Clock;
  readonly metrics: ProxyMetrics;
  readonly policy: FailurePolicy;
  readonly connectTimeoutMs: number;
}

export interface DialTarget {
  readonly appId: string;
  readonly picker: Picker;
}

export interface DialCallbacks {
  onConnected(socket: Socket, backend: Backend): void;
  onFailed(reason: string): void;
}

/** Starts a dial; the returned function cancels it. */
export function dialBackend(deps: DialDeps, target: DialTarget, clientIp: string, cb: DialCallbacks): () => void {
  let tried: Backend[] | null = null;
  let current: Socket | undefined;
  let cancelled = false;
  let attempts = 0;

  const next = (): void => {
    const backend = target.picker.pick(clientIp, deps.clock.nowMs(), tried);
    if (backend === undefined || attempts >= deps.policy.maxAttempts) {
      cb.onFailed(`${target.appId}: no instance accepted the connection`);
      return;
    }
    if (attempts > 0) deps.metrics.retries++;
    attempts++;
    const socket = connect({ host: backend.address, port: backend.port, noDelay: true });
    current = socket;
    socket.setTimeout(deps.connectTimeoutMs);
    const failed = (kind: 'connect' | 'connect_timeout'): void => {
      socket.removeAllListeners('connect');
      socket.removeAllListeners('timeout');
      socket.on('error', () => undefined);
      socket.destroy();
      if (cancelled) return;
      deps.metrics.countFailure(target.appId, kind);
      backend.state.failures++;
      backend.state.ejectedUntilMs = deps.clock.nowMs() + computeEjectionMs(backend.state.failures, deps.policy);
      deps.metrics.ejections++;
      (tried ??= []).push(backend);
      next();
    };
    socket.once('error', () => failed('connect'));
    socket.once('timeout', () => failed('connect_timeout'));
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      socket.removeAllListeners('timeout');
      socket.setTimeout(0);
      backend.state.failures = 0;
      if (cancelled) {
        socket.destroy();
        return;
      }
      cb.onConnected(socket, backend);
    });
  };

  next();
  return () => {
    cancelled = true;
    if (current !== undefined && current.connecting) {
      current.on('error', () => undefined);
      current.destroy();
    }
  };
}

/**
 * Joins two sockets until either side ends: errors on one close both, and a
 * half-close is passed on (`allowHalfOpen` on the accepting server). Calls
 * `onClosed` once when both are gone.
 */
export function splice(client: Socket, upstream: Socket, onClosed: () => void): void {
  let open = 2;
  const closed = (): void => {
    if (--open === 0) onClosed();
  };
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.once('close', () => { upstream.destroy(); closed(); });
  upstream.once('close', () => { client.destroy(); closed(); });
  client.pipe(upstream);
  upstream.pipe(client);
}
