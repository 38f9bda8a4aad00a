/**
 * The HTTP edge of the registry watch: an express 5 Router serving
 *   GET /v1/registry/watch[?since=N]  a RecordIO stream (see types.ts)
 *   GET /v1/registry                  the current snapshot as one JSON document
 * from a RegistryPublisher. Mount it on any express app (`app.use(server.router)`).
 *
 * Each open stream is one Watcher: a RegistrySubscriber writing the
 * publisher's shared frames to its response. Invariants:
 *   - a HEARTBEAT goes out only when the stream has been idle for a whole
 *     `heartbeatIntervalMs` (one timer per watcher, re-armed lazily rather
 *     than on every delta, so a busy registry costs no timer churn);
 *   - a watcher whose unsent bytes exceed `maxBufferedBytes` is cut off
 *     (socket destroyed, memory released); it will reconnect and resume
 *     from the window or a snapshot, so cutting loses it nothing;
 *   - when a stream ends, for whatever reason, its subscription, timer and
 *     listeners are all removed exactly once;
 *   - `close()` ends every stream and refuses new ones (503).
 */
import { Router, type Request, type Response } from 'express';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import { CygnetError, ValidationError, describeError } from '../common/errors.ts';
import { componentLogger, type Logger } from '../common/log.ts';
import type { RegistryPublisher, RegistrySubscriber, Subscription } from './registry-publisher.ts';
import { defaultHeartbeatIntervalMs, registrySnapshotPath, registryWatchPath } from './types.ts';

/** Heartbeat interval when none is given: idle streams cost one small record per 5 s, dead ones are noticed in 15 s. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = defaultHeartbeatIntervalMs;

/**
 * Unsent bytes one watcher may hold before it is cut off. 8 MiB is tens of
 * thousands of deltas, far more than a live consumer ever lags; beyond it the
 * peer is not reading, and 200 such peers must not cost the framework gigabytes.
 * A first snapshot larger than this still goes out (it is written to an empty buffer).
 */
export const DEFAULT_MAX_WATCHER_BUFFERED_BYTES = 8 * 1024 * 1024;

/** Longest `since` we parse: 16 digits covers every safe integer revision. */
const MAX_SINCE_DIGITS = 16;

export interface WatchServerOptions {
  readonly publisher: RegistryPublisher;
  readonly clock?: Clock;
  readonly heartbeatIntervalMs?: number;
  readonly maxBufferedBytes?: number;
  readonly log?: Logger;
}

export class ShuttingDownError extends CygnetError {
  constructor(message: string) {
    super('CYG_SHUTTING_DOWN', message);
  }
}

export class RegistryWatchServer {
  readonly router: Router;
  readonly heartbeatIntervalMs: number;
  readonly maxBufferedBytes: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly publisher: RegistryPublisher;
  private readonly watchers = new Set<Watcher>();
  private closed = false;
  /** Why streams are refused for now (`suspend`), or undefined while serving. */
  private suspended: string | undefined;
  /** Streams cut off for not reading, since start (for metrics and tests). */
  slowWatchersCut = 0;

  constructor(options: WatchServerOptions) {
    this.publisher = options.publisher;
    this.clock = options.clock ?? systemClock;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_WATCHER_BUFFERED_BYTES;
    this.log = options.log ?? componentLogger('registry-watch');
    if (!Number.isFinite(this.heartbeatIntervalMs) || this.heartbeatIntervalMs <= 0) {
      throw new ValidationError('heartbeatIntervalMs', 'a positive number of milliseconds', String(this.heartbeatIntervalMs));
    }
    if (!Number.isSafeInteger(this.maxBufferedBytes) || this.maxBufferedBytes < 1) {
      throw new ValidationError('maxBufferedBytes', 'a positive integer', String(this.maxBufferedBytes));
    }
    this.router = Router();
    this.router.get(registryWatchPath, (req, res) => this.handleWatch(req, res));
    this.router.get(registrySnapshotPath, (_req, res) => this.handleSnapshot(res));
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Bytes written to open streams and not yet taken by the kernel, summed (a gauge for metrics). */
  queuedBytes(): number {
    let sum = 0;
    for (const w of this.watchers) sum += w.queuedBytes;
    return sum;
  }

  /** Ends every open stream (the peers will reconnect elsewhere) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const w of [...this.watchers]) w.end('watch server closing');
  }

  /**
   * Ends every open stream and refuses new ones (503) until `resume`: for a replica that can
   * no longer learn what the cluster commits, so its watchers move to one that can.
   */
  suspend(why: string): void {
    if (this.suspended !== undefined || this.closed) return;
    this.suspended = why;
    this.log.info({ why, watchers: this.watchers.size }, 'registry watch suspended; watchers move to another replica');
    for (const w of [...this.watchers]) w.end(why);
  }

  resume(): void {
    if (this.suspended === undefined) return;
    this.suspended = undefined;
    this.log.info('registry watch serving again');
  }

  private refusal(): CygnetError | undefined {
    if (this.closed) return new ShuttingDownError('registry watch is shutting down');
    if (this.suspended !== undefined) return new CygnetError('CYG_NO_LEADER', `registry watch suspended: ${this.suspended}; watch another replica`);
    return undefined;
  }

  private handleSnapshot(res: Response): void {
    const refused = this.refusal();
    if (refused !== undefined) return sendError(res, refused);
    const body = this.publisher.snapshotJson();
    res.status(200);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', body.byteLength);
    res.setHeader('Cache-Control', 'no-cache');
    res.end(body);
  }

  private handleWatch(req: Request, res: Response): void {
    const refused = this.refusal();
    if (refused !== undefined) return sendError(res, refused);
    let since: number | undefined;
    try {
      since = parseSince(req.originalUrl);
    } catch (err) {
      return sendError(res, err);
    }
    if (req.method === 'HEAD') {
      // express routes HEAD to GET handlers; a stream without a body would only hold a socket and a timer.
      res.status(200).setHeader('Content-Type', 'application/recordio');
      res.setHeader('Message-Content-Type', 'application/json');
      res.end();
      return;
    }
    const watcher = new Watcher(this, res);
    this.watchers.add(watcher);
    watcher.open(since);
  }

  /** Called by a Watcher once, when it is gone. */
  forget(watcher: Watcher, why: string, slow: boolean): void {
    this.watchers.delete(watcher);
    if (slow) this.slowWatchersCut++;
    this.log.debug({ why, watchers: this.watchers.size }, 'registry watcher gone');
  }
}

/** `since` from the query: absent, or exactly one non-negative integer. */
export function parseSince(url: string): number | undefined {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const values = params.getAll('since');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new ValidationError('since', 'one revision', `${values.length} values`);
  const raw = values[0];
  if (!/^[0-9]+$/.test(raw) || raw.length > MAX_SINCE_DIGITS || !Number.isSafeInteger(Number(raw))) {
    throw new ValidationError('since', 'a non-negative integer revision', JSON.stringify(raw.slice(0, 40)));
  }
  return Number(raw);
}

function sendError(res: Response, err: unknown): void {
  const status = err instanceof CygnetError ? err.httpStatus : 500;
  const code = err instanceof CygnetError ? err.code : 'CYG_INTERNAL';
  res.status(status).json({ error: describeError(err), code });
}

/** One open watch stream. */
class Watcher implements RegistrySubscriber {
  private readonly server: RegistryWatchServer;
  private readonly res: Response;
  private subscription: Subscription | undefined;
  private heartbeat: TimerHandle | undefined;
  private lastWriteMs = 0;
  private done = false;
  private readonly onGone = (): void => this.finish('peer closed the connection', false);

  constructor(server: RegistryWatchServer, res: Response) {
    this.server = server;
    this.res = res;
  }

  open(since: number | undefined): void {
    const { res } = this;
    res.status(200);
    res.setHeader('Content-Type', 'application/recordio');
    res.setHeader('Message-Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'no-cache');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.socket?.setKeepAlive(true);
    res.on('close', this.onGone);
    res.on('error', this.onGone);
    // The peer may already be gone: then 'close' will not fire again.
    if (res.socket === null || res.socket.destroyed) {
      this.finish('peer gone before the stream opened', false);
      return;
    }
    this.subscription = this.server.publisher.subscribe(since, this);
    for (const frame of this.subscription.frames) this.write(frame);
    this.server.log.debug({ since, kind: this.subscription.kind }, 'registry watcher opened');
    this.arm(this.server.heartbeatIntervalMs);
  }

  get queuedBytes(): number {
    return this.done ? 0 : this.res.writableLength;
  }

  deliver(frame: Buffer): void {
    this.write(frame);
  }

  reset(why: string): void {
    this.end(why);
  }

  /** Ends the response normally (the peer sees the end of the stream and reconnects). */
  end(why: string): void {
    if (this.done) return;
    this.res.end();
    this.finish(why, false);
  }

  private write(frame: Buffer): void {
    if (this.done) return;
    const queued = this.res.writableLength;
    if (queued > 0 && queued + frame.byteLength > this.server.maxBufferedBytes) {
      this.server.log.warn({ queued, limit: this.server.maxBufferedBytes }, 'registry watcher is not reading; disconnecting it');
      this.res.destroy();
      this.finish(`peer not reading (${queued} bytes queued)`, true);
      return;
    }
    this.res.write(frame);
    this.lastWriteMs = this.server.clock.nowMs();
  }

  private arm(delayMs: number): void {
    this.heartbeat = this.server.clock.setTimer(delayMs, () => {
      this.heartbeat = undefined;
      if (this.done) return;
      const interval = this.server.heartbeatIntervalMs;
      const idleMs = this.server.clock.nowMs() - this.lastWriteMs;
      if (idleMs >= interval) {
        this.write(this.server.publisher.heartbeatFrame());
        if (!this.done) this.arm(interval);
      } else {
        this.arm(interval - idleMs);
      }
    });
  }

  private finish(why: string, slow: boolean): void {
    if (this.done) return;
    this.done = true;
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.res.off('close', this.onGone);
    this.res.off('error', this.onGone);
    // A late socket error after we stopped listening must not become an uncaught 'error'.
    this.res.on('error', ignore);
    this.server.forget(this, why, slow);
  }
}

function ignore(): void {}
