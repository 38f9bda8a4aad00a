/**
 * The keep-alive pools to backends: per backend address, raw TCP sockets
 * that carry one HTTP/1.1 exchange at a time (no pipelining) and go back to
 * the pool when an exchange ends with the connection reusable. The
 * exchange (exchange.ts) speaks HTTP on them; this file only connects,
 * lends, takes back, and closes.
 *
 *   acquire   an idle socket (the most recently used: warm, and the oldest
 *             age out), else a new connect, else (at the per-backend bound)
 *             a place in the backend's queue, served by the next release.
 *   release   reusable → idle (or straight to a queued user); otherwise
 *             destroyed. A socket that talks or closes while idle is dropped.
 *   sweep     idle sockets older than `poolIdleMs` are closed (the caller's
 *             ticker; no timer per socket).
 *
 * Sockets are TcpStreams (tcp-stream.ts: raw libuv handles where node
 * has them); a connect carries its own deadline (dialStream; connects are rare next to
 * requests on kept-alive sockets).
 *
 * Invariants: a socket has at most one user; a pool whose address left the
 * routing table (`prune`) lends nothing more and destroys each socket as it
 * comes back; `sockets()` counts every socket open or connecting.
 */
import { classifyUpstreamError } from './failure-policy.ts';
import type { UpstreamFailureKind } from './metrics.ts';
import { dialStream, type ProxyIo, type StreamHandler, type TcpStream } from './tcp-stream.ts';

export interface PoolOptions {
  /** An idle pooled socket is closed after this; keep it under the backends' own keep-alive timeout. */
  readonly poolIdleMs: number;
  /** Sockets per backend at most: bounds fds per backend; requests beyond it queue in the pool. */
  readonly poolMaxSocketsPerBackend: number;
}

/** node's default server keepAliveTimeout is 5 s: close ours first, so a reused socket is rarely one the backend just closed. */
export const defaultPool: PoolOptions = { poolIdleMs: 4_000, poolMaxSocketsPerBackend: 1_024 };

/** Who holds an upstream socket (the exchange); called with the socket's events. */
export interface UpstreamUser {
  /** The socket is connected and lent to this user (not called when `acquire` returned it ready). */
  onUpstreamReady(conn: UpstreamConn): void;
  /** The connect failed; the socket is gone. */
  onUpstreamConnectFailed(kind: UpstreamFailureKind, code: string | undefined): void;
  /** A view of the shared read buffer, valid only during the call: copy what you keep or write (writes go out at the end of the loop turn). */
  onUpstreamData(chunk: Buffer): void;
  /** The socket closed while lent (an error, or the backend closed it). */
  onUpstreamClose(code: string | undefined): void;
  onUpstreamDrain(): void;
}

export class UpstreamConn implements StreamHandler {
  user: UpstreamUser | null = null;
  idleSince = 0;
  private stream: TcpStream | null = null;
  private cancelDial: (() => void) | null;

  constructor(readonly pool: BackendPool, connectTimeoutMs: number) {
    this.cancelDial = dialStream(pool.owner.io, pool.address, pool.port, connectTimeoutMs, (stream) => this.onConnected(stream), (code) => this.onConnectFailed(code));
  }

  /** Connected (an idle socket always is; a new one once its connect succeeded). */
  get ready(): boolean {
    return this.stream !== null;
  }

  /** The connection; only once `ready`. */
  get socket(): TcpStream {
    return this.stream as TcpStream;
  }

  /** Open and usable for another exchange. */
  get usable(): boolean {
    const s = this.stream;
    return s !== null && !s.destroyed && s.writable;
  }

  /** Ends this socket's life without pooling it; a user still attached hears nothing more. */
  destroy(): void {
    this.user = null;
    if (this.stream !== null) {
      this.stream.destroy();
      return;
    }
    this.cancelDial?.();
    this.cancelDial = null;
    this.pool.forget(this);
  }

  // Methods called through unnamed arrows, not arrow-function fields: under tsx a named closure costs a defineProperty each time one is made (see raw-tcp.ts).
  private onConnected(stream: TcpStream): void {
    this.cancelDial = null;
    this.stream = stream;
    stream.attach(this);
    const user = this.user;
    if (user === null) this.pool.release(this, true);
    else user.onUpstreamReady(this);
  }

  /** `code` undefined: the connect timed out. */
  private onConnectFailed(code: string | undefined): void {
    this.cancelDial = null;
    this.pool.forget(this);
    const user = this.user;
    this.user = null;
    user?.onUpstreamConnectFailed(code === undefined ? 'connect_timeout' : classifyUpstreamError(code, 'connect'), code);
  }

  onData(chunk: Buffer): void {
    const user = this.user;
    if (user === null) this.stream?.destroy(); // a backend talking out of turn on an idle socket
    else user.onUpstreamData(chunk);
  }

  /** The backend half-closed: nothing more will come, so the socket is done (net's allowHalfOpen: false). */
  onEnd(): void {
    this.stream?.destroy();
  }

  onDrain(): void {
    this.user?.onUpstreamDrain();
  }

  onClose(code: string | undefined): void {
    this.pool.forget(this);
    const user = this.user;
    this.user = null;
    user?.onUpstreamClose(code);
  }
}

export class BackendPool {
  private readonly idle: UpstreamConn[] = [];
  private readonly all = new Set<UpstreamConn>();
  private readonly waiting: UpstreamUser[] = [];
  closing = false;

  constructor(readonly address: string, readonly port: number, readonly owner: UpstreamPools) {}

  get size(): number {
    return this.all.size;
  }

  /**
   * Lends a socket to `user`: an idle one (`ready`: send now), or a new one
   * still connecting (`user.onUpstreamReady` or `onUpstreamConnectFailed`
   * follows); null when the backend is at its bound and `user` is queued
   * (`onUpstreamReady` follows a release).
   */
  acquire(user: UpstreamUser): UpstreamConn | null {
    const idle = this.idle;
    while (idle.length > 0) {
      const conn = idle.pop() as UpstreamConn;
      if (!conn.usable) continue;
      conn.user = user;
      return conn;
    }
    if (this.all.size >= this.owner.options.poolMaxSocketsPerBackend) {
      this.waiting.push(user);
      return null;
    }
    const conn = new UpstreamConn(this, this.owner.connectTimeoutMs);
    conn.user = user;
    this.all.add(conn);
    return conn;
  }

  /** Takes `user` out of the queue (it went away while waiting). */
  cancel(user: UpstreamUser): void {
    const i = this.waiting.indexOf(user);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** Gives a socket back: pooled when `reusable`, else destroyed. */
  release(conn: UpstreamConn, reusable: boolean): void {
    conn.user = null;
    if (!reusable || this.closing || !conn.usable) {
      conn.destroy();
      return;
    }
    if (conn.socket.paused) conn.socket.resume();
    const next = this.waiting.shift();
    if (next !== undefined) {
      conn.user = next;
      next.onUpstreamReady(conn);
      return;
    }
    conn.idleSince = this.owner.now;
    this.idle.push(conn);
  }

  /** Called by a socket as it closes. */
  forget(conn: UpstreamConn): void {
    this.all.delete(conn);
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Closes idle sockets unused since before `cutoff`. */
  sweep(cutoff: number): void {
    const idle = this.idle;
    while (idle.length > 0 && (idle[0] as UpstreamConn).idleSince < cutoff) (idle.shift() as UpstreamConn).destroy();
  }

  close(): void {
    this.closing = true;
    for (const conn of [...this.all]) if (conn.user === null) conn.destroy();
  }

  destroyAll(): void {
    this.closing = true;
    for (const conn of [...this.all]) conn.destroy();
  }
}

export class UpstreamPools {
  private readonly pools = new Map<string, BackendPool>();
  /** A coarse clock (ms) the owner advances with its ticker. */
  now = 0;

  constructor(readonly connectTimeoutMs: number, readonly options: PoolOptions, readonly io: ProxyIo) {}

  get(address: string, port: number): BackendPool {
    const key = `${address}:${port}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new BackendPool(address, port, this);
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes the pools of addresses not in `live` (sockets in use finish their exchange, then close). */
  prune(live: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      if (live.has(key)) continue;
      this.pools.delete(key);
      pool.close();
    }
  }

  sweep(): void {
    const cutoff = this.now - this.options.poolIdleMs;
    for (const pool of this.pools.values()) pool.sweep(cutoff);
  }

  /** Sockets open to backends, busy, idle and connecting. */
  sockets(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.size;
    return n;
  }

  destroy(): void {
    for (const pool of this.pools.values()) pool.destroyAll();
    this.pools.clear();
  }
}
