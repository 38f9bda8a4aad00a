/**
 * The HTTP hot path: one client request → route → picker → an attempt on a
 * backend through its keep-alive pool, with the failure policy (retry,
 * eject) and the timeouts around each attempt.
 *
 *   pool         an undici Pool per backend address (upstream-pools.ts),
 *                driven through `dispatch` with this file's handler: the
 *                response streams straight into node's ServerResponse, no
 *                intermediate stream or header object.
 *   picker       the route's (picker.ts), skipping tried and ejected backends.
 *   interceptors refused / timed-out connect → eject + retry on another
 *                instance (nothing was sent); cut before any response byte
 *                → 502 (replayed only with `retryIdempotent`, for
 *                idempotent bodiless requests); header timeout → 504; a cut
 *                once the response began → the client's connection is cut.
 *
 * Invariants: every attempt ends exactly once (`settle`), and with it the
 * backend's in-flight count; the client's body is read only by the attempt
 * that got connected, so a refused connect leaves it unread for the retry;
 * when the client goes away before its response has ended, the attempt is
 * aborted, which destroys its upstream socket (a half-read socket never
 * goes back to the pool).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Clock } from '../common/clock.ts';
import { noInstanceMessage, noRouteMessage, sendFailure } from './answers.ts';
import { classifyUpstreamError, computeEjectionMs, ejects, mayRetry, type AttemptPhase, type FailurePolicy } from './failure-policy.ts';
import { clientAddress, computeDownstreamHeaders, computeUpstreamHeaders } from './headers.ts';
import type { ProxyMetrics, UpstreamFailureKind } from './metrics.ts';
import { matchRoute, type Backend, type HttpRoute, type RouteTable } from './route-table.ts';
import { UpstreamPools, type PoolOptions } from './upstream-pools.ts';

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
  /** The table in use; read once per request, so a swap never touches a request in progress. */
  readonly table: () => RouteTable;
}

export class HttpForwarder {
  readonly pools: UpstreamPools;

  constructor(readonly deps: ForwarderDeps) {
    this.pools = new UpstreamPools(deps.timeouts, deps.pool);
  }

  /** The `request` listener of the proxy's HTTP server. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (url.charCodeAt(0) !== 47 /* / */) {
      // Absolute-form and asterisk-form targets are for forward proxies and OPTIONS *; a reverse proxy routes origin-form.
      this.deps.metrics.countResponse('', 400);
      sendFailure(res, 'BAD_REQUEST', `request target '${url.slice(0, 100)}' is not a path; send origin-form (GET /path HTTP/1.1 with a Host header)`);
      req.resume();
      return;
    }
    const route = matchRoute(this.deps.table(), req.headers.host, url);
    if (route === undefined) {
      this.deps.metrics.countResponse('', 404);
      sendFailure(res, 'NO_ROUTE', noRouteMessage(req.headers.host, url));
      req.resume();
      return;
    }
    if (route.backends.length === 0) {
      this.deps.metrics.countResponse(route.appId, 503);
      sendFailure(res, 'NO_INSTANCE', noInstanceMessage(route.appId));
      req.resume();
      return;
    }
    new Exchange(this, req, res, route).attempt(null);
  };

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

  async close(): Promise<void> {
    await this.pools.destroy();
  }
}

/** Where a ServerResponse keeps its exchange, so its listeners are shared functions rather than a closure per request. */
const kExchange = Symbol('cygnet.exchange');
type ExchangeResponse = ServerResponse & { [kExchange]?: Exchange };

function onResponseClose(this: ExchangeResponse): void {
  this[kExchange]?.onClientClose();
}

function onResponseDrain(this: ExchangeResponse): void {
  this[kExchange]?.onDrain();
}

/** undici error codes for its own timeouts, by the phase they end. */
const timeoutKinds: Record<string, UpstreamFailureKind> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect_timeout',
  UND_ERR_HEADERS_TIMEOUT: 'header_timeout',
  UND_ERR_BODY_TIMEOUT: 'idle_timeout',
};

/**
 * One client request and its attempts; also the undici dispatch handler of
 * the current attempt (undici calls these methods with `this` bound).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private tried: Backend[] | null = null;
  private backend: Backend | undefined;
  private abortAttempt: ((err?: Error) => void) | null = null;
  private phase: AttemptPhase = 'connect';
  private attempts = 0;
  private settled = true;
  private done = false;
  private paused: (() => void) | null = null;
  private readonly clientIp: string;
  private readonly dispatchOptions: Dispatcher.DispatchOptions;
  private readonly hasBody: boolean;

  constructor(private readonly fwd: HttpForwarder, private readonly req: IncomingMessage, private readonly res: ServerResponse, private readonly route: HttpRoute) {
    this.clientIp = clientAddress(req.socket.remoteAddress);
    const te = req.headers['transfer-encoding'];
    const cl = req.headers['content-length'];
    this.hasBody = te !== undefined || (cl !== undefined && cl !== '0');
    this.dispatchOptions = {
      origin: '',
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      // undici frames the body itself: chunked when there is no Content-Length.
      headers: computeUpstreamHeaders(req.rawHeaders, { clientIp: this.clientIp, proto: 'http', host: req.headers.host ?? '' }, false, false),
      body: this.hasBody ? req : null,
    };
    fwd.deps.metrics.inFlight++;
    (res as ExchangeResponse)[kExchange] = this;
    res.once('close', onResponseClose);
  }

  attempt(previous: Backend | null): void {
    const deps = this.fwd.deps;
    if (previous !== null) (this.tried ??= []).push(previous);
    const backend = this.route.picker.pick(this.clientIp, deps.clock.nowMs(), this.tried);
    if (backend === undefined) {
      this.fail('BAD_GATEWAY', `every instance of ${this.route.appId} refused the connection`);
      return;
    }
    this.backend = backend;
    this.attempts++;
    this.phase = 'connect';
    this.settled = false;
    this.abortAttempt = null;
    backend.state.active++;
    this.fwd.pools.get(backend.address, backend.port).dispatch(this.dispatchOptions, this);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortAttempt = abort;
    this.phase = 'headers';
    if (this.done) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // an interim 1xx (103 Early Hints): wait for the final answer
    (this.backend as Backend).state.failures = 0;
    this.phase = 'body';
    this.fwd.deps.metrics.countResponse(this.route.appId, statusCode);
    if (this.done) return false;
    const headers: string[] = new Array(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) headers[i] = (rawHeaders[i] as Buffer).toString('latin1');
    this.res.writeHead(statusCode, statusText, computeDownstreamHeaders(headers));
    this.paused = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', onResponseDrain);
    return false;
  }

  onDrain(): void {
    this.paused?.();
  }

  onComplete(): void {
    this.settle();
    if (!this.done) this.res.end();
  }

  onError(err: Error): void {
    if (this.settled) return;
    const code = (err as NodeJS.ErrnoException).code;
    const kind = (code !== undefined ? timeoutKinds[code] : undefined) ?? classifyUpstreamError(code, this.phase);
    this.failAttempt(kind, err);
  }

  private failAttempt(kind: UpstreamFailureKind, err: Error): void {
    const backend = this.backend as Backend;
    const phase = this.phase;
    this.settle();
    const deps = this.fwd.deps;
    if (this.done) return; // the client left first: its abort caused this
    deps.metrics.countFailure(this.route.appId, kind);
    if (ejects(kind)) this.fwd.eject(backend);
    if (phase === 'body') {
      // Part of the response went out: the client sees a cut connection, as from the backend.
      this.res.destroy();
      return;
    }
    const bodyUntouched = !this.hasBody || (!this.req.readableDidRead && !this.req.destroyed);
    if (mayRetry({ kind, attempts: this.attempts, method: this.req.method ?? 'GET', bodyUntouched, cutBeforeResponse: phase === 'headers' && kind === 'reset' }, deps.policy)) {
      deps.metrics.retries++;
      this.attempt(backend);
      return;
    }
    const where = `${backend.address}:${backend.port}`;
    if ((err as NodeJS.ErrnoException).code === 'UND_ERR_INVALID_ARG' || (err as NodeJS.ErrnoException).code === 'UND_ERR_NOT_SUPPORTED') this.fail('BAD_REQUEST', `cannot forward this request: ${err.message}`);
    else if (kind === 'header_timeout') this.fail('GATEWAY_TIMEOUT', `${this.route.appId}: ${where} sent no response headers within ${deps.timeouts.headerTimeoutMs} ms`);
    else if (kind === 'connect' || kind === 'connect_timeout') this.fail('BAD_GATEWAY', `${this.route.appId}: no instance accepted the connection (last: ${where}, ${kind === 'connect' ? 'refused' : 'timed out'})`);
    else this.fail('BAD_GATEWAY', `${this.route.appId}: ${where} closed the connection before answering`);
  }

  private fail(failure: 'BAD_GATEWAY' | 'GATEWAY_TIMEOUT' | 'BAD_REQUEST', message: string): void {
    this.fwd.deps.metrics.countResponse(this.route.appId, failure === 'BAD_GATEWAY' ? 502 : failure === 'BAD_REQUEST' ? 400 : 504);
    sendFailure(this.res, failure, message);
    if (!this.req.readableDidRead) this.req.resume();
  }

  /** Ends the current attempt once: the in-flight count follows. */
  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    (this.backend as Backend).state.active--;
  }

  onClientClose(): void {
    this.done = true;
    this.fwd.deps.metrics.inFlight--;
    if (this.res.writableFinished) return;
    // The client went away first: abort the attempt, which destroys its socket rather than pooling a half-read one.
    this.fwd.deps.metrics.clientAborts++;
    if (this.settled) return;
    this.settle();
    this.abortAttempt?.();
  }
}
