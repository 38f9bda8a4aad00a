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
import type { Clock } from '../common/clock.ts';
import { computeEjectionMs, type FailurePolicy } from './failure-policy.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { Picker } from './picker.ts';
import type { Backend } from './route-table.ts';
import { dialStream, type ProxyIo, type StreamHandler, type TcpStream } from './tcp-stream.ts';

export interface DialDeps {
  readonly clock: Clock;
  readonly metrics: ProxyMetrics;
  readonly policy: FailurePolicy;
  readonly connectTimeoutMs: number;
  readonly io: ProxyIo;
}

export interface DialTarget {
  readonly appId: string;
  readonly picker: Picker;
}

export interface DialCallbacks {
  onConnected(stream: TcpStream, backend: Backend): void;
  onFailed(reason: string): void;
}

/** Starts a dial; the returned function cancels it. */
export function dialBackend(deps: DialDeps, target: DialTarget, clientIp: string, cb: DialCallbacks): () => void {
  let tried: Backend[] | null = null;
  let cancelConnect: (() => void) | null = null;
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
    const failed = (kind: 'connect' | 'connect_timeout'): void => {
      cancelConnect = null;
      if (cancelled) return;
      deps.metrics.countFailure(target.appId, kind);
      backend.state.failures++;
      backend.state.ejectedUntilMs = deps.clock.nowMs() + computeEjectionMs(backend.state.failures, deps.policy);
      deps.metrics.ejections++;
      (tried ??= []).push(backend);
      next();
    };
    cancelConnect = dialStream(deps.io, backend.address, backend.port, deps.connectTimeoutMs, (stream) => {
      cancelConnect = null;
      backend.state.failures = 0;
      if (cancelled) {
        stream.destroy();
        return;
      }
      cb.onConnected(stream, backend);
    }, (code) => failed(code === undefined ? 'connect_timeout' : 'connect'));
  };

  next();
  return () => {
    cancelled = true;
    cancelConnect?.();
    cancelConnect = null;
  };
}

/** Holds a client connection until it is spliced: its bytes wait in the kernel, and its close calls `onClose` (which cancels the dial). */
export function holdClient(client: TcpStream, onClose: () => void): void {
  client.pause();
  client.attach({ onData() {}, onEnd() {}, onDrain() {}, onClose });
}

/**
 * Joins two streams until both ends are done: a half-close is passed on, a
 * close (or failure) of one closes the other, and backpressure pauses the
 * side that reads faster. Calls `onClosed` once when both are gone.
 */
export function splice(client: TcpStream, upstream: TcpStream, onClosed: () => void): void {
  let open = 2;
  const ended = new Set<TcpStream>();
  const relay = (from: TcpStream, to: TcpStream): StreamHandler => ({
    // Reads are valid only during the call and writes go out at the end of the turn: copy.
    onData(chunk) {
      if (!to.write(Buffer.from(chunk))) from.pause();
    },
    onEnd() {
      ended.add(from);
      to.end();
      if (ended.has(to)) {
        from.destroySoon();
        to.destroySoon();
      }
    },
    // Writes to `from` went out: the side writing into it may read again.
    onDrain() {
      to.resume();
    },
    onClose() {
      to.destroy();
      if (--open === 0) onClosed();
    },
  });
  client.attach(relay(client, upstream));
  upstream.attach(relay(upstream, client));
  client.resume();
  upstream.resume();
}
