/**
 * The HTTP hot path: one client request → route → picker → an attempt on a
 * backend through the keep-alive pool, with the failure policy (retry,
 * eject) and the timeouts around each attempt.
 *
 *   pool         one node:http Agent, keep-alive, LIFO, per backend address:
 *                warm sockets are reused, idle ones closed before a node
 *                backend's own 5 s keep-alive would (see poolIdleMs).
 *   picker       the route's (picker.ts), skipping tried and ejected backends.
 *   interceptors connect timeout → eject + retry; refused → eject + retry;
 *                stale kept-alive socket → retry (idempotent, bodiless);
 *                header timeout → 504; anything else after sending → 502.
 *
 * Invariants: a request's body is piped upstream only once the backend's
 * socket is connected, so a refused connect has consumed nothing and the
 * retry can still send it; every attempt ends exactly once (`settle`), and
 * with it the backend's in-flight count; when the client goes away before
 * its response has ended, the upstream request is destroyed, which closes
 * its socket rather than returning a half-read one to the pool.
 */
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../common/clock.ts';
import { noInstanceMessage, noRouteMessage, sendFailure } from './answers.ts';
import { classifyUpstreamError, computeEjectionMs, ejects, mayRetry, type AttemptPhase, type FailurePolicy } from './failure-policy.ts';
import { clientAddress, computeDownstreamHeaders, computeUpstreamHeaders } from './headers.ts';
import type { ProxyMetrics, UpstreamFailureKind } from './metrics.ts';
import { matchRoute, type Backend, type HttpRoute, type RouteTable } from './route-table.ts';

export interface TimeoutOptions {
  /** Until the TCP connect to a backend succeeds (then: eject + retry). */
  readonly connectTimeoutMs: number;
  /** From the request sent to the backend's response headers (then: 504). */
  readonly headerTimeoutMs: number;
  /** Silence on a response body in progress, and on an idle client keep-alive connection. */
  readonly idleTimeoutMs: number;
}

export interface PoolOptions {
  /** An idle pooled socket is closed after this; under a node backend's default keepAliveTimeout (5 s). */
  readonly poolIdleMs: number;
  /** Idle sockets kept per backend: enough for a busy client fan-in, bounded so a burst does not pin fds. */
  readonly poolMaxIdlePerBackend: number;
}

export const defaultTimeouts: TimeoutOptions = { connectTimeoutMs: 3_000, headerTimeoutMs: 60_000, idleTimeoutMs: 60_000 };
export const defaultPool: PoolOptions = { poolIdleMs: 4_000, poolMaxIdlePerBackend: 256 };

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
  readonly agent: Agent;

  constructor(readonly deps: ForwarderDeps) {
    this.agent = new Agent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: deps.pool.poolMaxIdlePerBackend, timeout: deps.pool.poolIdleMs });
  }

  /** The `request` listener of the proxy's HTTP server. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const route = matchRoute(this.deps.table(), req.headers.host, req.url);
    if (route === undefined) {
      this.deps.metrics.countResponse('', 404);
      sendFailure(res, 'NO_ROUTE', noRouteMessage(req.headers.host, req.url));
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

  /** Sockets open to backends, busy and idle. */
  upstreamSockets(): number {
    let n = 0;
    for (const list of Object.values(this.agent.sockets)) n += list?.length ?? 0;
    for (const list of Object.values(this.agent.freeSockets)) n += list?.length ?? 0;
    return n;
  }

  /** Marks a failed connect: the backend sits out for a while (longer each time in a row). */
  eject(backend: Backend): void {
    const s = backend.state;
    s.failures++;
    s.ejectedUntilMs = this.deps.clock.nowMs() + computeEjectionMs(s.failures, this.deps.policy);
    this.deps.metrics.ejections++;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** One client request and its attempts. */
class Exchange {
  private tried: Backend[] | null = null;
  private backend: Backend | undefined;
  private upstream: ClientRequest | undefined;
  private phase: AttemptPhase = 'connect';
  private attempts = 0;
  private settled = true;
  private bodyTouched = false;
  private done = false;
  private readonly clientIp: string;
  private readonly headers: string[];
  private readonly hasBody: boolean;

  constructor(private readonly fwd: HttpForwarder, private readonly req: IncomingMessage, private readonly res: ServerResponse, private readonly route: HttpRoute) {
    this.clientIp = clientAddress(req.socket.remoteAddress);
    const te = req.headers['transfer-encoding'];
    const cl = req.headers['content-length'];
    this.hasBody = te !== undefined || (cl !== undefined && cl !== '0');
    this.headers = computeUpstreamHeaders(req.rawHeaders, { clientIp: this.clientIp, proto: 'http', host: req.headers.host ?? '' }, te !== undefined, false);
    fwd.deps.metrics.inFlight++;
    res.once('close', this.onClientClose);
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
    backend.state.active++;
    const up = httpRequest({
      agent: this.fwd.agent,
      host: backend.address,
      port: backend.port,
      method: this.req.method,
      path: this.req.url,
      headers: this.headers,
      setHost: false,
      timeout: deps.timeouts.connectTimeoutMs,
    });
    this.upstream = up;
    up.on('socket', this.onSocket);
    up.on('response', this.onResponse);
    up.on('error', this.onUpstreamError);
    up.on('timeout', this.onUpstreamTimeout);
    if (!this.hasBody) up.end();
  }

  private readonly onSocket = (socket: Socket): void => {
    if (socket.connecting) socket.once('connect', this.onConnected);
    else this.onConnected();
  };

  private readonly onConnected = (): void => {
    const up = this.upstream;
    if (up === undefined || this.done) return;
    this.phase = 'headers';
    up.setTimeout(this.fwd.deps.timeouts.headerTimeoutMs);
    if (this.hasBody && !this.bodyTouched) {
      this.bodyTouched = true;
      this.req.pipe(up);
    }
  };

  private readonly onResponse = (ures: IncomingMessage): void => {
    const backend = this.backend as Backend;
    backend.state.failures = 0;
    this.phase = 'body';
    const up = this.upstream as ClientRequest;
    up.setTimeout(this.fwd.deps.timeouts.idleTimeoutMs);
    const status = ures.statusCode ?? 502;
    this.fwd.deps.metrics.countResponse(this.route.appId, status);
    if (this.done) {
      ures.resume();
      return;
    }
    this.res.writeHead(status, ures.statusMessage, computeDownstreamHeaders(ures.rawHeaders));
    ures.on('end', this.onUpstreamEnd);
    ures.on('aborted', this.onUpstreamAborted);
    ures.on('error', this.onUpstreamAborted);
    ures.pipe(this.res);
  };

  private readonly onUpstreamEnd = (): void => {
    this.settle();
  };

  private readonly onUpstreamAborted = (): void => {
    if (this.settled) return;
    this.fwd.deps.metrics.countFailure(this.route.appId, 'reset');
    this.settle();
    this.res.destroy();
  };

  private readonly onUpstreamTimeout = (): void => {
    const kind: UpstreamFailureKind = this.phase === 'connect' ? 'connect_timeout' : this.phase === 'headers' ? 'header_timeout' : 'idle_timeout';
    this.failAttempt(kind);
  };

  private readonly onUpstreamError = (err: NodeJS.ErrnoException): void => {
    if (this.settled) return;
    this.failAttempt(classifyUpstreamError(err.code, this.phase));
  };

  private failAttempt(kind: UpstreamFailureKind): void {
    if (this.settled) return;
    const backend = this.backend as Backend;
    const up = this.upstream as ClientRequest;
    const phase = this.phase;
    const staleReusedSocket = up.reusedSocket && phase !== 'body';
    this.settle();
    up.destroy();
    const deps = this.fwd.deps;
    deps.metrics.countFailure(this.route.appId, kind);
    if (this.done) return;
    if (ejects(kind)) this.fwd.eject(backend);
    if (phase === 'body') {
      // Part of the response went out: the client sees a cut connection, as from the backend.
      this.res.destroy();
      return;
    }
    if (mayRetry({ kind, attempts: this.attempts, method: this.req.method ?? 'GET', bodyUntouched: !this.bodyTouched, staleReusedSocket }, deps.policy)) {
      deps.metrics.retries++;
      this.attempt(backend);
      return;
    }
    if (kind === 'header_timeout') this.fail('GATEWAY_TIMEOUT', `${this.route.appId}: ${backend.address}:${backend.port} sent no response headers within ${deps.timeouts.headerTimeoutMs} ms`);
    else if (kind === 'connect' || kind === 'connect_timeout') this.fail('BAD_GATEWAY', `${this.route.appId}: no instance accepted the connection (last: ${backend.address}:${backend.port}, ${kind === 'connect' ? 'refused' : 'timed out'})`);
    else this.fail('BAD_GATEWAY', `${this.route.appId}: ${backend.address}:${backend.port} closed the connection before answering`);
  }

  private fail(failure: 'BAD_GATEWAY' | 'GATEWAY_TIMEOUT', message: string): void {
    this.fwd.deps.metrics.countResponse(this.route.appId, failure === 'BAD_GATEWAY' ? 502 : 504);
    sendFailure(this.res, failure, message);
    if (!this.bodyTouched) this.req.resume();
  }

  /** Ends the current attempt once: the in-flight count follows. */
  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    (this.backend as Backend).state.active--;
  }

  private readonly onClientClose = (): void => {
    this.done = true;
    this.fwd.deps.metrics.inFlight--;
    if (this.res.writableFinished) return;
    // The client went away first: close the upstream socket, a half-read one cannot go back to the pool.
    this.fwd.deps.metrics.clientAborts++;
    if (this.settled) return;
    this.settle();
    this.upstream?.destroy();
  };
}
