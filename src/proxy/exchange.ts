/**
 * One client request on its way to a backend and back: the attempts
 * (picker → pool socket → request written), the response relayed as it
 * arrives, and the failure policy around each attempt (retry, eject,
 * timeouts). The client side (reading heads, answering what cannot be
 * forwarded, pipelining) is client-connection.ts.
 *
 *   connect ──socket ready──▶ headers ──final response head──▶ body ──end of body──▶ finished
 *      │ refused / timed out        │ cut, malformed, header timeout    │ cut, idle timeout
 *      ▼                            ▼                                   ▼
 *   eject + retry on another    502/504 (a replay only for           the client's connection
 *   instance (nothing sent)     `retryIdempotent`, bodiless)         is cut, as the backend's was
 *
 * The request head for backends is written once, when the exchange is
 * created; the body is relayed byte for byte as the client sends it (a
 * chunked body through a strict scanner that finds its end), and only
 * once a socket is ready, so an attempt whose connect failed has consumed
 * nothing and the retry sends the same bytes. Responses are relayed the
 * same way: the head rewritten once (hop-by-hop fields out), body bytes as
 * they come, chunked framing kept (decoded only for an HTTP/1.0 client).
 *
 * Invariants: every attempt ends exactly once (`settle`), and with it the
 * backend's in-flight count; the exchange finishes exactly once, and with
 * it the proxy's in-flight count; a socket goes back to the pool only when
 * its response ended as framed, the whole request was sent, and the
 * backend keeps it alive; a client that goes away destroys the attempt's
 * socket (a half-read socket never goes back to the pool).
 */
import type { ClientConnection } from './client-connection.ts';
import { classifyUpstreamError, ejects, mayRetry, type AttemptPhase } from './failure-policy.ts';
import type { HttpForwarder } from './forwarder.ts';
import { connectionClose, connectionKeepAlive, connectionNone, copyRange, writeDownstreamHead } from './http1/head-writer.ts';
import { framingChunked, framingClose, framingLength, framingNone } from './http1/response-head.ts';
import type { UpstreamFailureKind } from './metrics.ts';
import type { Backend, HttpRoute } from './route-table.ts';
import type { BackendPool, UpstreamConn, UpstreamUser } from './upstream-pools.ts';

const continueLine = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

export class Exchange implements UpstreamUser {
  private tried: Backend[] | null = null;
  private backend: Backend | undefined;
  private pool: BackendPool | null = null;
  private upstream: UpstreamConn | null = null;
  private phase: AttemptPhase = 'connect';
  private attempts = 0;
  private settled = true;
  private finished = false;
  /** Some request body bytes went to a backend: a retry would not send them again. */
  private bodyStarted = false;
  /** The whole request went upstream. */
  private requestDone: boolean;
  private bodyRemaining: number;
  private expectContinue: boolean;
  private lastActivity: number;
  private pendingHead: Buffer | null = null;
  /** The request head waits to share one writev with the first body bytes. */
  private headUnsent = false;
  private framing = framingNone;
  private responseRemaining = 0;
  private decodeSink: ((buf: Buffer, start: number, end: number) => void) | null = null;
  /** The client's connection stays open after this response. */
  private keepClientAfter = false;
  /** The backend's socket may be reused after this response. */
  private reusable = false;
  private readonly method: string;
  private readonly chunked: boolean;
  private readonly keepClient: boolean;
  private readonly clientHttp10: boolean;

  constructor(private readonly fwd: HttpForwarder, private readonly client: ClientConnection, private readonly route: HttpRoute, private readonly requestHead: Buffer) {
    const head = client.head;
    this.method = head.method;
    this.chunked = head.chunked;
    this.bodyRemaining = head.chunked ? 0 : Math.max(0, head.contentLength);
    this.requestDone = !head.hasBody;
    this.keepClient = head.keepsAlive;
    this.clientHttp10 = head.version === 10;
    this.expectContinue = head.expectContinue && head.hasBody && head.version === 11;
    if (head.chunked) client.requestChunks.reset();
    this.lastActivity = fwd.now;
    fwd.deps.metrics.inFlight++;
  }

  /** The attempt's socket is ready and the client's body is still coming: client bytes go to `forwardBody`. */
  get wantsBody(): boolean {
    return !this.requestDone && this.upstream !== null && this.phase !== 'connect';
  }

  attempt(previous: Backend | null): void {
    if (previous !== null) (this.tried ??= []).push(previous);
    const deps = this.fwd.deps;
    const backend = this.route.picker.pick(this.client.clientIp, deps.clock.nowMs(), this.tried);
    if (backend === undefined) {
      this.fail('BAD_GATEWAY', `every instance of ${this.route.appId} refused the connection`);
      return;
    }
    this.backend = backend;
    this.attempts++;
    this.phase = 'connect';
    this.settled = false;
    this.pendingHead = null;
    backend.state.active++;
    const pool = this.fwd.poolOf(backend);
    this.pool = pool;
    const conn = pool.acquire(this);
    if (conn === null) return;
    this.upstream = conn;
    if (conn.ready) this.onUpstreamReady(conn);
  }

  onUpstreamReady(conn: UpstreamConn): void {
    this.upstream = conn;
    this.phase = 'headers';
    this.lastActivity = this.fwd.now;
    const client = this.client;
    if (this.expectContinue) {
      this.expectContinue = false;
      client.socket.write(continueLine);
    }
    const buffered = this.requestDone ? null : client.takeBuffered();
    if (buffered === null) {
      conn.socket.write(this.requestHead);
      return;
    }
    // Head and the body bytes already received in one writev.
    this.headUnsent = true;
    const used = this.forwardBody(buffered);
    if (used < 0) return;
    if (used < buffered.length) client.putBack(buffered.subarray(used));
    if (this.headUnsent) {
      this.headUnsent = false;
      conn.socket.write(this.requestHead);
    }
  }

  /** Relays request body bytes; returns how many belonged to this request, or -1 when the exchange failed on them. */
  forwardBody(chunk: Buffer): number {
    const upstream = this.upstream as UpstreamConn;
    this.lastActivity = this.fwd.now;
    let used: number;
    if (this.chunked) {
      const scanner = this.client.requestChunks;
      used = scanner.feed(chunk, 0, chunk.length);
      if (used < 0) {
        this.onBadRequestBody(scanner.error);
        return -1;
      }
      if (scanner.done) this.requestDone = true;
    } else {
      used = Math.min(this.bodyRemaining, chunk.length);
      this.bodyRemaining -= used;
      if (this.bodyRemaining === 0) this.requestDone = true;
    }
    if (used > 0) {
      this.bodyStarted = true;
      // The client's reads are valid only during the call, and writes go out at the end of the turn: copy.
      const bytes = Buffer.from(used === chunk.length ? chunk : chunk.subarray(0, used));
      let ok: boolean;
      if (this.headUnsent) {
        this.headUnsent = false;
        ok = upstream.socket.write2(this.requestHead, bytes);
      } else ok = upstream.socket.write(bytes);
      if (!ok) this.client.pauseForUpstream();
    }
    return used;
  }

  onUpstreamDrain(): void {
    this.client.resumeForUpstream();
  }

  onClientDrain(): void {
    const up = this.upstream;
    if (up !== null && up.ready && up.socket.paused) up.socket.resume();
  }

  onUpstreamData(chunk: Buffer): void {
    this.lastActivity = this.fwd.now;
    if (this.phase === 'headers') this.onResponseHead(chunk);
    else this.relayBody(chunk, 0);
  }

  private onResponseHead(chunk: Buffer): void {
    // `chunk` is the shared read buffer: what outlives this call is copied (writes too: they go out at the end of the turn).
    const data = this.pendingHead === null ? chunk : Buffer.concat([this.pendingHead, chunk]);
    this.pendingHead = null;
    const rh = this.client.response;
    let start = 0;
    let end: number;
    for (;;) {
      end = rh.parse(data, start);
      if (end === 0) {
        this.pendingHead = Buffer.from(data.subarray(start));
        return;
      }
      if (end < 0) return this.failAttempt('reset', `sent a malformed response (${rh.error})`);
      if (rh.status >= 200) break;
      // 101 only answers an upgrade, which never comes here; other 1xx are interim: wait for the final answer.
      if (rh.status === 101) return this.failAttempt('reset', 'switched protocols on a plain request');
      // RFC 9110 §15.2: a proxy forwards interim responses (103 Early Hints, 102), but never to an
      // HTTP/1.0 client, and not 100: the proxy answered Expect itself and did not pass it on.
      if (rh.status !== 100 && !this.clientHttp10) this.client.socket.write(writeDownstreamHead(data, rh, false, connectionNone, 0));
      start = end;
      if (start === data.length) return;
    }
    (this.backend as Backend).state.failures = 0;
    this.phase = 'body';
    this.fwd.deps.metrics.countResponse(this.route.appId, rh.status);
    const framing = rh.bodyFraming(this.method);
    this.framing = framing;
    this.reusable = rh.reusable && framing !== framingClose;
    let keep = this.keepClient;
    let chunkedOut = false;
    if (framing === framingClose) keep = false;
    else if (framing === framingChunked) {
      this.client.responseChunks.reset();
      if (this.clientHttp10) {
        keep = false;
        this.decodeSink = (buf, s, e) => { if (e > s) this.writeClient(Buffer.from(buf.subarray(s, e))); };
      } else chunkedOut = true;
    }
    this.keepClientAfter = keep;
    const connection = !keep ? connectionClose : this.clientHttp10 ? connectionKeepAlive : connectionNone;
    let take = 0;
    let complete = false;
    if (framing === framingLength) {
      take = Math.min(rh.contentLength, data.length - end);
      this.responseRemaining = rh.contentLength - take;
      complete = this.responseRemaining === 0;
    } else if (framing === framingChunked && this.decodeSink === null) {
      const scanned = this.client.responseChunks.feed(data, end, data.length);
      if (scanned < 0) return this.failAttempt('reset', `sent a malformed chunked body (${this.client.responseChunks.error})`);
      take = scanned - end;
      complete = this.client.responseChunks.done;
    } else if (framing === framingClose) {
      take = data.length - end;
    } else if (framing === framingNone) {
      complete = true;
    }
    const out = writeDownstreamHead(data, rh, chunkedOut, connection, take);
    if (take > 0) copyRange(data, end, end + take, out, out.length - take);
    this.writeClient(out);
    if (this.decodeSink !== null) {
      this.relayBody(data, end);
      return;
    }
    if (complete) {
      if (end + take < data.length) this.reusable = false; // bytes past the response: the socket is not in a known state
      this.finish();
    }
  }

  private relayBody(chunk: Buffer, start: number): void {
    const len = chunk.length;
    if (this.framing === framingLength) {
      const take = Math.min(this.responseRemaining, len - start);
      this.responseRemaining -= take;
      if (take > 0) this.writeClient(Buffer.from(chunk.subarray(start, start + take)));
      if (this.responseRemaining === 0) {
        if (start + take < len) this.reusable = false;
        this.finish();
      }
    } else if (this.framing === framingChunked) {
      const scanner = this.client.responseChunks;
      const sink = this.decodeSink;
      const end = sink === null ? scanner.feed(chunk, start, len) : scanner.feed(chunk, start, len, sink);
      if (end < 0) return this.failAttempt('reset', `sent a malformed chunked body (${scanner.error})`);
      if (sink === null && end > start) this.writeClient(Buffer.from(chunk.subarray(start, end)));
      if (scanner.done) {
        if (end < len) this.reusable = false;
        this.finish();
      }
    } else if (this.framing === framingClose) {
      if (start < len) this.writeClient(Buffer.from(chunk.subarray(start)));
    } else {
      // Bytes after a bodiless response that already finished: never reached (the socket was released).
      this.reusable = false;
    }
  }

  private writeClient(bytes: Buffer): void {
    if (!this.client.socket.write(bytes)) this.upstream?.socket.pause();
  }

  onUpstreamClose(code: string | undefined): void {
    this.upstream = null;
    if (this.finished) return;
    if (this.phase === 'body' && this.framing === framingClose) {
      this.reusable = false;
      this.finish();
      return;
    }
    this.failAttempt(classifyUpstreamError(code, this.phase));
  }

  onUpstreamConnectFailed(kind: UpstreamFailureKind): void {
    this.upstream = null;
    if (this.finished) return;
    this.failAttempt(kind);
  }

  /** The proxy's ticker: header and idle timeouts of the attempt in progress. */
  checkTimeouts(now: number): void {
    if (this.finished) return;
    const t = this.fwd.deps.timeouts;
    const silentMs = now - this.lastActivity - this.fwd.tickMs;
    if (this.phase === 'headers' && silentMs > t.headerTimeoutMs) this.failAttempt('header_timeout');
    else if (this.phase === 'body' && silentMs > t.idleTimeoutMs) this.failAttempt('idle_timeout');
  }

  /** The response is complete: the socket goes back to its pool (or away), the client connection serves its next request. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const conn = this.upstream;
    this.upstream = null;
    this.settle();
    if (conn !== null) (this.pool as BackendPool).release(conn, this.reusable && this.requestDone);
    this.fwd.deps.metrics.inFlight--;
    this.client.exchangeDone(this.keepClientAfter && this.requestDone);
  }

  private failAttempt(kind: UpstreamFailureKind, detail?: string): void {
    const backend = this.backend as Backend;
    const phase = this.phase;
    const conn = this.upstream;
    this.upstream = null;
    conn?.destroy();
    this.settle();
    if (this.finished) return;
    const deps = this.fwd.deps;
    deps.metrics.countFailure(this.route.appId, kind);
    if (ejects(kind)) this.fwd.eject(backend);
    if (phase === 'body') {
      // Part of the response went out: the client sees a cut connection, as from the backend.
      this.finished = true;
      deps.metrics.inFlight--;
      this.client.socket.destroy();
      return;
    }
    if (mayRetry({ kind, attempts: this.attempts, method: this.method, bodyUntouched: !this.bodyStarted, cutBeforeResponse: phase === 'headers' && kind === 'reset' }, deps.policy)) {
      deps.metrics.retries++;
      this.attempt(backend);
      return;
    }
    const where = `${backend.address}:${backend.port}`;
    const app = this.route.appId;
    if (detail !== undefined) this.fail('BAD_GATEWAY', `${app}: ${where} ${detail}`);
    else if (kind === 'header_timeout') this.fail('GATEWAY_TIMEOUT', `${app}: ${where} sent no response headers within ${deps.timeouts.headerTimeoutMs} ms`);
    else if (kind === 'connect' || kind === 'connect_timeout') this.fail('BAD_GATEWAY', `${app}: no instance accepted the connection (last: ${where}, ${kind === 'connect' ? 'refused' : 'timed out'})`);
    else this.fail('BAD_GATEWAY', `${app}: ${where} closed the connection before answering`);
  }

  /** Answers the client itself; the connection closes when the request's body was not all read. */
  private fail(failure: 'BAD_GATEWAY' | 'GATEWAY_TIMEOUT' | 'BAD_REQUEST', message: string): void {
    this.finished = true;
    const m = this.fwd.deps.metrics;
    m.countResponse(this.route.appId, failure === 'BAD_GATEWAY' ? 502 : failure === 'BAD_REQUEST' ? 400 : 504);
    m.inFlight--;
    this.client.answerFor(failure, message, !this.requestDone || !this.keepClient);
  }

  /** The client's chunked body broke its framing. */
  private onBadRequestBody(why: string): void {
    const conn = this.upstream;
    this.upstream = null;
    conn?.destroy();
    this.settle();
    if (this.phase === 'body') {
      this.finished = true;
      this.fwd.deps.metrics.inFlight--;
      this.client.socket.destroy();
      return;
    }
    this.fail('BAD_REQUEST', `malformed chunked request body: ${why}`);
  }

  /** The client's socket closed. */
  onClientClose(): void {
    if (this.finished) return;
    this.finished = true;
    const m = this.fwd.deps.metrics;
    m.inFlight--;
    m.clientAborts++;
    const conn = this.upstream;
    this.upstream = null;
    if (conn !== null) conn.destroy();
    else if (this.phase === 'connect' && !this.settled) this.pool?.cancel(this);
    this.settle();
  }

  /** Ends the current attempt once: the in-flight count follows. */
  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    (this.backend as Backend).state.active--;
  }
}
