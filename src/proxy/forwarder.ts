/**
 * The HTTP hot path, on raw sockets: an HTTP/1.1 engine of the proxy's own
 * (http1/: strict head parsers, head writers, a chunked scanner), because
 * node:http alone costs more CPU per request than HAProxy spends on a
 * whole forward.
 *
 *   client-connection.ts  one client socket: heads, local answers, pipelining
 *   exchange.ts           one request: attempts, relaying, failure policy
 *   upstream-pools.ts     kept-alive raw sockets per backend
 *
 * This file owns what they share: the dependencies, the pools, the set of
 * client connections, and one ticker that drives every timeout (head,
 * idle keep-alive, header, body idle, pool idle) from a coarse clock, so
 * the hot path arms no timer per request.
 */
import type { Clock } from '../common/clock.ts';
import { ClientConnection } from './client-connection.ts';
import { computeEjectionMs, type FailurePolicy } from './failure-policy.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { Backend, RouteTable } from './route-table.ts';
import type { ProxyIo, TcpStream } from './tcp-stream.ts';
import type { UpgradeRequest } from './tunnel.ts';
import { UpstreamPools, type BackendPool, type PoolOptions } from './upstream-pools.ts';

const noop = (): void => {};

export interface TimeoutOptions {
  /** Until the TCP connect to a backend succeeds (then: eject + retry). */
  readonly connectTimeoutMs: number;
  /** From the request sent to the backend's response headers (then: 504). */
  readonly headerTimeoutMs: number;
  /** Silence on a response body in progress, and on an idle client keep-alive connection. */
  readonly idleTimeoutMs: number;
}

export const defaultTimeouts: TimeoutOptions = { connectTimeoutMs: 3_000, headerTimeoutMs: 60_000, idleTimeoutMs: 60_000 };

export interface ForwarderDeps {
  readonly clock: Clock;
  readonly metrics: ProxyMetrics;
  readonly timeouts: TimeoutOptions;
  readonly pool: PoolOptions;
  readonly policy: FailurePolicy;
  readonly io: ProxyIo;
  /** The table in use; read once per request, so a swap never touches a request in progress. */
  readonly table: () => RouteTable;
  /** Takes over a connection whose request asks for a protocol upgrade; `onClosed` once it is gone. */
  readonly onUpgrade: (req: UpgradeRequest, stream: TcpStream, head: Buffer, onClosed: () => void) => void;
}

/**
 * The ticker's period: a quarter of the shortest timeout, within [10 ms, 1 s].
 * Activity is stamped with the coarse clock, which lags real time by up to
 * one period, so a check allows one period of slack: a timeout never fires
 * early, and at most two periods late.
 */
export function computeTickMs(t: TimeoutOptions, pool: PoolOptions): number {
  return Math.max(10, Math.min(1_000, Math.floor(Math.min(t.headerTimeoutMs, t.idleTimeoutMs, pool.poolIdleMs) / 4)));
}

export class HttpForwarder {
  readonly pools: UpstreamPools;
  readonly clients = new Set<ClientConnection>();
  /** Set by a graceful shutdown: connections close once their request in progress is answered. */
  closing = false;
  /** Coarse time (ms since epoch), advanced by the ticker: what timeouts are measured with. */
  now = Date.now();
  /** The ticker's period, also the slack every timeout check allows (see computeTickMs). */
  readonly tickMs: number;
  private readonly ticker: NodeJS.Timeout;
  /** Each backend's pool, by identity: no address string is built per request. */
  private readonly poolByBackend = new WeakMap<Backend, BackendPool>();

  constructor(readonly deps: ForwarderDeps) {
    this.pools = new UpstreamPools(deps.timeouts.connectTimeoutMs, deps.pool, deps.io);
    this.pools.now = this.now;
    this.tickMs = computeTickMs(deps.timeouts, deps.pool);
    this.ticker = setInterval(this.tick, this.tickMs);
    this.ticker.unref();
  }

  /** Called after a client connection closed, with how long it lived (coarse: ±tickMs); a multi-worker proxy reports its load. */
  onClientClosed: (lifetimeMs: number) => void = noop;

  /** Takes a connection the proxy's listener accepted. */
  readonly accept = (stream: TcpStream): void => {
    this.clients.add(new ClientConnection(this, stream));
  };

  poolOf(backend: Backend): BackendPool {
    let pool = this.poolByBackend.get(backend);
    if (pool === undefined || pool.closing) {
      pool = this.pools.get(backend.address, backend.port);
      this.poolByBackend.set(backend, pool);
    }
    return pool;
  }

  /** Marks a failed connect: the backend sits out for a while (longer each time in a row). */
  eject(backend: Backend): void {
    const s = backend.state;
    s.failures++;
    s.ejectedUntilMs = this.deps.clock.nowMs() + computeEjectionMs(s.failures, this.deps.policy);
    this.deps.metrics.ejections++;
  }

  /** Closes pools whose backends left the table. */
  pruneAfterSwap(table: RouteTable): void {
    const live = new Set<string>();
    for (const routes of table.hosts.values()) for (const r of routes) for (const b of r.backends) live.add(`${b.address}:${b.port}`);
    this.pools.prune(live);
  }

  /** Closes client connections waiting for a request; `force`: every one. */
  closeClients(force: boolean): void {
    this.closing = true;
    for (const c of [...this.clients]) c.close(force);
  }

  close(): void {
    clearInterval(this.ticker);
    this.pools.destroy();
  }

  private readonly tick = (): void => {
    const now = Date.now();
    this.now = now;
    this.pools.now = now;
    for (const c of this.clients) c.checkTimeouts(now);
    this.pools.sweep();
  };
}
