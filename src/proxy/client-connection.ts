/**
 * One client connection to the proxy's HTTP port: reads request heads,
 * answers itself what cannot be forwarded (malformed → 4xx and close, no
 * route → 404, no instance → 503), hands upgrades to the tunnel, and runs
 * the rest one at a time as exchanges (exchange.ts).
 *
 *   head ──request head──▶ busy (an exchange) ──response done, keep-alive──▶ head
 *     │                      │ Connection: close, a failure mid-body, client gone
 *     │ upgrade              ▼
 *     ▼                    closed (our side ended; lingering reads discarded, then destroyed)
 *   tunnel (tunnel.ts owns the socket)
 *
 * Pipelined requests are served in order: bytes after the request in
 * progress wait in `buf` (reading pauses past `maxBufferedBytes`) and are
 * parsed once its response has ended.
 *
 * Invariants: at most one exchange per connection; `buf` holds only bytes
 * not yet given to an exchange; while an exchange takes its body from the
 * socket (`wantsBody`), `buf` is empty.
 */
import { failureResponse, noInstanceMessage, noRouteMessage, refusalFailure, type ProxyFailure } from './answers.ts';
import { Exchange } from './exchange.ts';
import type { HttpForwarder } from './forwarder.ts';
import { clientAddress } from './headers.ts';
import { ChunkedScanner } from './http1/chunked.ts';
import { upstreamTail, writeUpstreamHead } from './http1/head-writer.ts';
import { maxHeadBytes, RequestHead } from './http1/request-head.ts';
import { ResponseHead } from './http1/response-head.ts';
import { normalizeHost, pathHasPrefix, type HttpRoute, type RouteTable } from './route-table.ts';
import type { StreamHandler, TcpStream } from './tcp-stream.ts';

const stHead = 0;
const stBusy = 1;
const stClosed = 2;
const stTunnel = 3;

/** Bytes read ahead of the request in progress (pipelined requests) before reading pauses: one more head's worth. */
export const maxBufferedBytes = maxHeadBytes;

/** How long a connection we ended may stay half-open, reading (and discarding) what the client still sends, so it receives our last answer rather than a reset. */
export const lingerMs = 2_000;

const pausedForBuffer = 1;
const pausedForUpstream = 2;

export class ClientConnection implements StreamHandler {
  readonly head = new RequestHead();
  readonly response = new ResponseHead();
  readonly requestChunks = new ChunkedScanner();
  readonly responseChunks = new ChunkedScanner();
  readonly clientIp: string;
  private buf: Buffer | null = null;
  /** Where `buf` grows in place while a head or a body arrives in pieces (doubling: linear, not quadratic, in the bytes received). */
  private room: Buffer | null = null;
  /** How much of `buf` the head search has already covered (it resumes there). */
  private scanned = 0;
  private state = stHead;
  private exchange: Exchange | null = null;
  /** When the connection entered its current state (head: idle/head timeout; closed: linger). */
  private since: number;
  /** When it was accepted (coarse, the forwarder's clock). */
  private readonly openedAt: number;
  private paused = 0;
  private serving = false;
  private tailHost: string | undefined;
  private tail: Buffer | null = null;
  /** The routes of the last Host seen, under the table they came from (a swap invalidates them). */
  private routesTable: RouteTable | null = null;
  private routesHost: string | undefined;
  private routes: readonly HttpRoute[] | undefined;

  constructor(private readonly fwd: HttpForwarder, readonly socket: TcpStream) {
    this.clientIp = clientAddress(socket.remoteAddress);
    this.since = fwd.now;
    this.openedAt = fwd.now;
    socket.attach(this);
  }

  /** Waiting for a request with nothing buffered: may be closed without cutting anything. */
  get idle(): boolean {
    return this.state === stHead && this.buf === null;
  }

  // The StreamHandler callbacks are methods, not arrow-function fields: under tsx every named closure made per connection costs a defineProperty (see raw-tcp.ts).
  onData(chunk: Buffer): void {
    let bytes = chunk;
    const ex = this.exchange;
    if (ex !== null && ex.wantsBody) {
      const used = ex.forwardBody(bytes);
      if (used < 0 || used === bytes.length) return;
      bytes = bytes.subarray(used);
    }
    if (this.state === stClosed || this.state === stTunnel) return;
    this.append(bytes);
    if (this.state === stHead) this.serve();
    else if ((this.buf?.length ?? 0) > maxBufferedBytes) this.pause(pausedForBuffer);
    // `chunk` is the shared read buffer, valid only during this call: bytes still waiting (a partial head, a pipelined request) get their own copy.
    const left = this.buf;
    if (left !== null && left.buffer === chunk.buffer) this.buf = Buffer.from(left);
  }

  /** The client half-closed: with a request in progress that is an abort (as node:http and nginx read it), else a goodbye. */
  onEnd(): void {
    if (this.state === stBusy) {
      this.socket.destroy();
      return;
    }
    this.shut();
    this.socket.destroySoon();
  }

  onDrain(): void {
    this.exchange?.onClientDrain();
  }

  onClose(): void {
    this.state = stClosed;
    this.fwd.clients.delete(this);
    this.fwd.onClientClosed(this.fwd.now - this.openedAt);
    const ex = this.exchange;
    this.exchange = null;
    ex?.onClientClose();
  }

  /** Parses and serves the buffered requests, in order, until one is in progress. */
  private serve(): void {
    if (this.serving) return;
    this.serving = true;
    try {
      while (this.state === stHead && this.buf !== null) {
        const buf = this.buf;
        const end = this.head.parse(buf, this.scanned);
        if (end === 0) {
          this.scanned = buf.length;
          break;
        }
        this.scanned = 0;
        if (end < 0) {
          this.fwd.deps.metrics.countResponse('', -end);
          this.answer(refusalFailure(-end), `malformed request: ${this.head.error}`, true);
          return;
        }
        this.buf = end < buf.length ? buf.subarray(end) : null;
        this.route(buf);
      }
    } finally {
      this.serving = false;
    }
    if (this.state === stHead) this.resume(pausedForBuffer);
  }

  /** One parsed request (its head at the start of `buf`): answered here, tunnelled, or an exchange started. */
  private route(buf: Buffer): void {
    const head = this.head;
    const metrics = this.fwd.deps.metrics;
    const closeAfter = head.hasBody || !head.keepsAlive;
    if (!head.isOriginForm) {
      // Authority-form (CONNECT) and asterisk-form (OPTIONS *) name no path to route; absolute-form was already turned into one.
      metrics.countResponse('', 400);
      this.answer('BAD_REQUEST', `request target '${head.target.slice(0, 100)}' is neither a path nor an http:// URL; send origin-form (GET /path HTTP/1.1 with a Host header) or absolute-form (GET http://host/path HTTP/1.1)`, closeAfter);
      return;
    }
    if (head.isUpgrade) {
      this.becomeTunnel(buf);
      return;
    }
    const route = this.matchRoute();
    if (route === undefined) {
      metrics.countResponse('', 404);
      this.answer('NO_ROUTE', noRouteMessage(head.host, head.target), closeAfter);
      return;
    }
    if (route.backends.length === 0) {
      metrics.countResponse(route.appId, 503);
      this.answer('NO_INSTANCE', noInstanceMessage(route.appId), closeAfter);
      return;
    }
    this.state = stBusy;
    const ex = new Exchange(this.fwd, this, route, writeUpstreamHead(buf, head, this.upstreamTail(), 0));
    this.exchange = ex;
    ex.attempt(null);
  }

  /** matchRoute (route-table.ts) with the host lookup cached per connection, and the target decoded only when a route has a path prefix. */
  private matchRoute(): HttpRoute | undefined {
    const head = this.head;
    const table = this.fwd.deps.table();
    const host = head.host;
    if (host === undefined) return undefined;
    if (table !== this.routesTable || host !== this.routesHost) {
      this.routesTable = table;
      this.routesHost = host;
      this.routes = table.hosts.get(normalizeHost(host));
    }
    const routes = this.routes;
    if (routes === undefined) return undefined;
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i] as HttpRoute;
      if (r.pathPrefix === '/' || pathHasPrefix(head.target, r.pathPrefix)) return r;
    }
    return undefined;
  }

  /** X-Forwarded-* and framing for the backend; the common case (no client X-Forwarded-For, same Host) reuses the last one. */
  private upstreamTail(): Buffer {
    const h = this.head;
    const host = h.host ?? '';
    if (h.forwardedFor !== undefined || h.chunked) return upstreamTail(this.clientIp, h.forwardedFor, host, h.chunked);
    if (this.tail === null || host !== this.tailHost) {
      this.tailHost = host;
      this.tail = upstreamTail(this.clientIp, undefined, host, false);
    }
    return this.tail;
  }

  private append(bytes: Buffer): void {
    const buf = this.buf;
    if (buf === null) {
      this.buf = bytes;
      return;
    }
    const need = buf.length + bytes.length;
    let room = this.room;
    // buf grows in place only while it is the start of `room` (consumed heads leave a view further in).
    if (room === null || room.length < need || buf.buffer !== room.buffer || buf.byteOffset !== room.byteOffset) {
      room = Buffer.allocUnsafeSlow(Math.max(need, 2 * buf.length, 4096));
      buf.copy(room, 0);
      this.room = room;
    }
    bytes.copy(room, buf.length);
    this.buf = room.subarray(0, need);
  }

  /** Hands the socket to the tunnel with the upgrade request and whatever followed it. */
  private becomeTunnel(buf: Buffer): void {
    const head = this.head;
    const rest = this.buf === null ? Buffer.alloc(0) : Buffer.from(this.buf); // the tunnel writes it later: its own copy
    this.buf = null;
    this.state = stTunnel;
    this.fwd.deps.onUpgrade({ method: head.method, url: head.target, host: head.host, rawHeaders: head.rawHeaders(buf) }, this.socket, rest, () => this.onClose());
  }

  /** Writes the proxy's own answer; with `close`, the connection ends after it. */
  private answer(failure: ProxyFailure, message: string, close: boolean): void {
    if (this.socket.writable) this.socket.write(failureResponse(failure, message, close));
    if (close) this.shut();
  }

  /** The exchange in progress ends with the proxy's own answer. */
  answerFor(failure: ProxyFailure, message: string, close: boolean): void {
    this.answer(failure, message, close);
    this.exchangeDone(!close);
  }

  /** The exchange in progress is over; `keep`: the connection serves the next request. */
  exchangeDone(keep: boolean): void {
    this.exchange = null;
    this.resume(pausedForUpstream);
    if (this.state !== stBusy) return;
    if (!keep || this.fwd.closing) {
      this.shut();
      return;
    }
    this.state = stHead;
    this.since = this.fwd.now;
    if (this.buf !== null) this.serve();
    else this.resume(pausedForBuffer);
  }

  /** Ends our side; what the client still sends is read and dropped until it closes or `lingerMs` passes. */
  private shut(): void {
    if (this.state === stClosed) return;
    this.state = stClosed;
    this.since = this.fwd.now;
    this.buf = null;
    this.room = null;
    this.resume(pausedForBuffer | pausedForUpstream);
    this.socket.end();
  }

  /** Bytes buffered past the head, for the exchange's body; the exchange puts back what is not its own. */
  takeBuffered(): Buffer | null {
    const b = this.buf;
    this.buf = null;
    this.resume(pausedForBuffer);
    return b;
  }

  putBack(bytes: Buffer): void {
    this.buf = bytes;
    this.scanned = 0;
    if (bytes.length > maxBufferedBytes) this.pause(pausedForBuffer);
  }

  pauseForUpstream(): void {
    this.pause(pausedForUpstream);
  }

  resumeForUpstream(): void {
    this.resume(pausedForUpstream);
  }

  private pause(reason: number): void {
    if (this.paused === 0) this.socket.pause();
    this.paused |= reason;
  }

  private resume(reason: number): void {
    if ((this.paused & reason) === 0) return;
    this.paused &= ~reason;
    if (this.paused === 0) this.socket.resume();
  }

  /** The proxy's ticker: idle keep-alive and slow heads, lingering closes, the exchange's own timeouts. */
  checkTimeouts(now: number): void {
    const elapsedMs = now - this.since - this.fwd.tickMs;
    if (this.state === stHead) {
      if (elapsedMs > this.fwd.deps.timeouts.idleTimeoutMs) this.socket.destroy();
    } else if (this.state === stClosed) {
      if (elapsedMs > lingerMs) this.socket.destroy();
    } else if (this.state === stBusy) {
      this.exchange?.checkTimeouts(now);
    }
  }

  /** Closes the connection if idle (a graceful shutdown); `force` closes it anyway. */
  close(force: boolean): void {
    if (force) this.socket.destroy();
    else if (this.idle) this.shut();
  }
}
