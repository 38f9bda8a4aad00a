/**
 * The consumer of the registry watch (the DNS server, the load balancer):
 * keeps a RegistryState in step with one framework replica's stream and
 * tells its owner what changed.
 *
 *   idle ──start()──▶ connecting ──first record──▶ connected
 *     ▲                   │  ▲                         │
 *     │                   ▼  │ backoff, next URL       ▼ stream ends / dead / bad record
 *     └──close()──── (any) ◀─┴──────────────────── disconnected
 *
 * - The first connection asks for a snapshot; later ones resume with
 *   `since=<revision>` and keep the state on RESUMED.
 * - A stream with no record for `deadStreamHeartbeats` heartbeat intervals is
 *   dead (half-open TCP, a frozen replica): aborted and reconnected.
 * - Reconnects rotate across `urls` with capped, jittered backoff; the
 *   failure count resets once a stream synced (first record) and ended
 *   without a protocol error from the peer.
 * - While disconnected the last state stays readable: DNS and the proxy keep
 *   serving what they knew.
 * - A bad peer (non-200, wrong content type, broken framing, a record over
 *   `maxRecordBytes`, bad UTF-8 or JSON, a record that does not validate)
 *   costs one log line and a reconnect, never a crash; memory per stream is
 *   bounded by `maxRecordBytes`. A record that does not fit the state (a
 *   rejected delta, a RESUMED or HEARTBEAT at the wrong revision) also makes
 *   the next connection ask for a full snapshot.
 * - Listeners that throw are logged and ignored.
 * - `close()` aborts the request, cancels every timer and ends the loop;
 *   afterwards no event fires.
 */
import { EventEmitter } from 'node:events';
import { Agent, request, type Dispatcher } from 'undici';
import { systemClock, type Clock, type TimerHandle } from '../common/clock.ts';
import { CygnetError, ValidationError, describeError } from '../common/errors.ts';
import { componentLogger, type Logger } from '../common/log.ts';
import { systemRandom, type Random } from '../common/random.ts';
import { computeBackoffMs, type BackoffPolicy } from '../framework/sdk/backoff.ts';
import { RecordIODecoder } from '../protocol/recordio.ts';
import { parseWatchRecord } from './record-validation.ts';
import { RegistryDeltaRejectedError, RegistryState, type ReadonlyRegistryState } from './registry-state.ts';
import { deadStreamHeartbeats, defaultHeartbeatIntervalMs, registryWatchPath, type RegistryDelta, type SnapshotRecord, type WatchRecord } from './types.ts';

/**
 * Largest record accepted. A snapshot is the biggest record: ~300 bytes per
 * endpoint, so 64 MiB holds ~200k endpoints, well past any cluster we run,
 * while a broken or hostile length prefix cannot make us buffer more.
 */
export const DEFAULT_MAX_REGISTRY_RECORD_BYTES = 64 * 1024 * 1024;

/** Reconnect backoff: the first retry after 100-200 ms (a replica restart), never more than 10 s apart. */
export const defaultRegistryBackoff: BackoffPolicy = { minMs: 100, maxMs: 10_000 };

/** How much of an error body we quote in a log line. */
const MAX_ERROR_BODY_CHARS = 512;

export interface RegistryWatchClientOptions {
  /** Framework replicas, `http://host:port` or `host:port`; any of them serves the same registry. */
  readonly urls: readonly string[];
  readonly clock?: Clock;
  readonly random?: Random;
  readonly log?: Logger;
  /** The servers' heartbeat interval; the stream is dead after `deadStreamHeartbeats` of them without a record. */
  readonly heartbeatIntervalMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly maxRecordBytes?: number;
  /** TCP connect timeout per attempt (default: the dead-stream time). */
  readonly connectTimeoutMs?: number;
}

export interface ConnectedInfo {
  readonly url: string;
  /** true when the stream resumed from our revision, false when it began with a snapshot. */
  readonly resumed: boolean;
}

export interface DisconnectedInfo {
  readonly url: string;
  readonly reason: string;
}

export interface RegistryWatchEvents {
  /** The state was replaced by a snapshot (the first connection, or a resume the server could not serve). */
  snapshot: [record: SnapshotRecord];
  /** One delta was applied to the state. */
  delta: [delta: RegistryDelta];
  connected: [info: ConnectedInfo];
  disconnected: [info: DisconnectedInfo];
}

/** A peer broke the protocol (or answered something other than a watch stream). */
export class RegistryWatchError extends CygnetError {
  constructor(message: string) {
    super('CYG_FETCH', message);
  }
}

interface AttemptOutcome {
  readonly reason: string;
  /** The stream delivered its first record (snapshot or RESUMED). */
  readonly synced: boolean;
  /** It ended because the peer broke the protocol. */
  readonly peerFault: boolean;
  /** The replica answered our resume with another cluster or revision: it is healthy, we need its snapshot. */
  readonly resumeRefused: boolean;
  /** The replica ended the response itself (as a framework does when its state changes hands), rather than the connection failing. */
  readonly cleanEnd?: boolean;
}

/** A record the peer sent does not fit our state: we must start over from a snapshot. */
class ResyncNeeded extends RegistryWatchError {}

export class RegistryWatchClient extends EventEmitter<RegistryWatchEvents> {
  readonly urls: readonly string[];
  readonly heartbeatIntervalMs: number;
  readonly maxRecordBytes: number;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly dispatcher: Agent;
  private readonly registry = new RegistryState();

  private urlIndex = 0;
  private hasSnapshot = false;
  private resyncNeeded = false;
  private isConnected = false;
  private closed = false;
  private loop: Promise<void> | undefined;
  private currentAbort: AbortController | undefined;
  private watchdog: TimerHandle | undefined;
  private sleepTimer: TimerHandle | undefined;
  private wake: (() => void) | undefined;
  private lastRecordMs: number | undefined;
  private lastActivityMs = 0;

  constructor(options: RegistryWatchClientOptions) {
    super();
    if (!Array.isArray(options.urls) || options.urls.length === 0) {
      throw new ValidationError('urls', 'a non-empty list of framework URLs', JSON.stringify(options.urls));
    }
    this.urls = options.urls.map((u, i) => normalizeUrl(u, `urls[${i}]`));
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? defaultHeartbeatIntervalMs;
    if (!Number.isFinite(this.heartbeatIntervalMs) || this.heartbeatIntervalMs <= 0) {
      throw new ValidationError('heartbeatIntervalMs', 'a positive number of milliseconds', String(options.heartbeatIntervalMs));
    }
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_REGISTRY_RECORD_BYTES;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.log = options.log ?? componentLogger('registry-client');
    this.backoff = options.backoff ?? defaultRegistryBackoff;
    if (!(this.backoff.minMs >= 0 && this.backoff.maxMs >= this.backoff.minMs)) {
      throw new ValidationError('backoff', '0 <= minMs <= maxMs', JSON.stringify(this.backoff));
    }
    const connectTimeout = options.connectTimeoutMs ?? this.deadAfterMs;
    this.dispatcher = new Agent({ connectTimeout, headersTimeout: this.deadAfterMs, bodyTimeout: 0 });
  }

  /** The registry as last received (kept while disconnected). */
  get state(): ReadonlyRegistryState {
    return this.registry;
  }

  get revision(): number {
    return this.registry.revision;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Clock time of the last record received (any kind), or undefined before the first. */
  get lastRecordAt(): number | undefined {
    return this.lastRecordMs;
  }

  /** The URL of the current (or next) connection attempt. */
  get currentUrl(): string {
    return this.urls[this.urlIndex];
  }

  describe(): string {
    return `registry-client ${this.closed ? 'closed' : this.isConnected ? 'connected' : 'disconnected'} url=${this.currentUrl} ${this.registry.describe()}`;
  }

  /** Starts watching (idempotent). */
  start(): void {
    if (this.closed || this.loop !== undefined) return;
    this.loop = this.run();
  }

  /** Stops for good: aborts the stream, cancels timers, waits for the loop to end. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.isConnected = false;
    this.currentAbort?.abort(new Error('client closed'));
    this.stopWatchdog();
    this.sleepTimer?.cancel();
    this.sleepTimer = undefined;
    this.wake?.();
    await this.loop;
    await this.dispatcher.destroy().catch(() => undefined);
  }

  private get deadAfterMs(): number {
    return this.heartbeatIntervalMs * deadStreamHeartbeats;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let quickRetried = false;
    while (!this.closed) {
      const url = this.urls[this.urlIndex];
      const outcome = await this.attempt(url);
      if (this.closed) break;
      if (this.isConnected) {
        this.isConnected = false;
        this.notify('disconnected', { url, reason: outcome.reason });
      }
      // A replica that cannot resume us (a new leader of a fresh cluster, as at every `npm start`, or one whose
      // state was replaced) is healthy: ask it for its snapshot at once rather than wait and move on. Once until
      // a stream syncs again, so a replica that keeps refusing is retried with the backoff like any other failure.
      if (outcome.synced) quickRetried = false;
      if (outcome.resumeRefused && !quickRetried) {
        quickRetried = true;
        this.log.info({ url, reason: outcome.reason }, 'registry watch cannot resume here; asking for a snapshot');
        continue;
      }
      // A peer that syncs and then sends garbage must not get a fast reconnect loop: only a clean stream resets the backoff.
      if (outcome.synced && !outcome.peerFault) failures = 0;
      failures++;
      // From the first retry on the wait is jittered (in [min, 2·min] at first), so the watchers of a
      // replica that restarts do not all come back in the same millisecond.
      const delayMs = computeBackoffMs(failures, this.backoff, this.random);
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      // A replica that served us and then ended the stream on purpose (a leader change, a restart) is routine: info, not a warning.
      const routine = outcome.synced && outcome.cleanEnd === true;
      this.log[routine ? 'info' : 'warn']({ url, reason: outcome.reason, retryInMs: delayMs, next: this.urls[this.urlIndex] }, 'registry watch stream ended; reconnecting');
      await this.sleep(delayMs);
    }
  }

  /** One connection: request, then read records until the stream ends or fails. Never throws. */
  private async attempt(url: string): Promise<AttemptOutcome> {
    const abort = new AbortController();
    this.currentAbort = abort;
    const since = this.hasSnapshot && !this.resyncNeeded ? this.registry.revision : undefined;
    const target = `${url}${registryWatchPath}${since === undefined ? '' : `?since=${since}`}`;
    let synced = false;
    this.startWatchdog(abort);
    try {
      const res = await request(target, { dispatcher: this.dispatcher, signal: abort.signal, headersTimeout: this.deadAfterMs, bodyTimeout: 0 });
      await checkResponse(res, target);
      const decoder = new RecordIODecoder(this.maxRecordBytes);
      const utf8 = new TextDecoder('utf-8', { fatal: true });
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        // Records that arrived in the same chunk as bad framing are still good: apply them first.
        const { records, error } = decoder.pushSome(chunk);
        for (const bytes of records) {
          let record: WatchRecord;
          try {
            record = parseWatchRecord(JSON.parse(utf8.decode(bytes)));
          } catch (err) {
            throw new RegistryWatchError(`bad record from ${url}: ${describeError(err)}`);
          }
          this.lastActivityMs = this.clock.nowMs();
          this.lastRecordMs = this.lastActivityMs;
          if (!synced) {
            this.handleFirst(record, since, url);
            synced = true;
          } else {
            this.handleNext(record, url);
          }
          if (this.closed) return { reason: 'client closed', synced, peerFault: false, resumeRefused: false };
        }
        if (error !== undefined) throw error;
      }
      return { reason: 'server ended the stream', synced, peerFault: false, resumeRefused: false, cleanEnd: true };
    } catch (err) {
      if (err instanceof ResyncNeeded) this.resyncNeeded = true;
      if (abort.signal.aborted) return { reason: describeError(abort.signal.reason), synced, peerFault: false, resumeRefused: false };
      // CygnetErrors here are the peer's fault (framing, JSON, validation, protocol); others are the network's.
      return { reason: describeError(err), synced, peerFault: err instanceof CygnetError, resumeRefused: err instanceof ResyncNeeded && !synced };
    } finally {
      this.stopWatchdog();
      if (!abort.signal.aborted) abort.abort(new Error('stream finished'));
      if (this.currentAbort === abort) this.currentAbort = undefined;
    }
  }

  private handleFirst(record: WatchRecord, since: number | undefined, url: string): void {
    if (record.type === 'SNAPSHOT') {
      this.registry.loadSnapshot(record);
      this.hasSnapshot = true;
      this.resyncNeeded = false;
      this.isConnected = true;
      this.log.info({ url, revision: record.revision, apps: record.apps.length }, 'registry snapshot received');
      this.notify('snapshot', record);
      this.notify('connected', { url, resumed: false });
      return;
    }
    if (record.type === 'RESUMED') {
      if (since === undefined || record.revision !== since || record.clusterId !== this.registry.clusterId) {
        throw new ResyncNeeded(`${url} resumed cluster ${record.clusterId} at revision ${record.revision}; we asked for ${this.registry.clusterId} since ${since ?? '(none)'}`);
      }
      this.isConnected = true;
      this.log.info({ url, revision: since }, 'registry watch resumed');
      this.notify('connected', { url, resumed: true });
      return;
    }
    throw new RegistryWatchError(`${url} began the stream with ${record.type}, expected SNAPSHOT or RESUMED`);
  }

  private handleNext(record: WatchRecord, url: string): void {
    switch (record.type) {
      case 'SNAPSHOT':
      case 'RESUMED':
        throw new RegistryWatchError(`${url} sent ${record.type} in the middle of the stream`);
      case 'HEARTBEAT':
        if (record.revision !== this.registry.revision) {
          throw new ResyncNeeded(`${url} is at revision ${record.revision} but sent us up to ${this.registry.revision}`);
        }
        return;
      default:
        try {
          this.registry.apply(record);
        } catch (err) {
          if (err instanceof RegistryDeltaRejectedError) throw new ResyncNeeded(`${url} sent a delta that does not apply: ${err.message}`);
          throw err;
        }
        this.notify('delta', record);
    }
  }

  private notify<K extends keyof RegistryWatchEvents>(event: K, ...args: RegistryWatchEvents[K]): void {
    if (this.closed) return;
    try {
      // EventEmitter's generic overloads do not narrow a rest tuple; the event map keeps the types honest.
      (this.emit as (e: K, ...a: RegistryWatchEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ err: describeError(err), event }, 'registry watch listener threw; ignored');
    }
  }

  /** Aborts the stream once nothing has arrived for the dead-stream time; lazy, so records do not re-arm timers. */
  private startWatchdog(abort: AbortController): void {
    const deadMs = this.deadAfterMs;
    this.lastActivityMs = this.clock.nowMs();
    const check = (): void => {
      this.watchdog = undefined;
      const silentMs = this.clock.nowMs() - this.lastActivityMs;
      if (silentMs >= deadMs) {
        abort.abort(new RegistryWatchError(`no record for ${silentMs} ms (${deadStreamHeartbeats} heartbeat intervals): dead stream`));
      } else {
        this.watchdog = this.clock.setTimer(deadMs - silentMs, check);
      }
    };
    this.watchdog = this.clock.setTimer(deadMs, check);
  }

  private stopWatchdog(): void {
    this.watchdog?.cancel();
    this.watchdog = undefined;
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.sleepTimer?.cancel();
        this.sleepTimer = undefined;
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.sleepTimer = this.clock.setTimer(ms, done);
    });
  }
}

/** Throws unless `res` is a 200 RecordIO stream of JSON records (draining the body it refuses). */
async function checkResponse(res: Dispatcher.ResponseData, target: string): Promise<void> {
  if (res.statusCode !== 200) {
    const text = await readSome(res.body);
    throw new RegistryWatchError(`${target} answered ${res.statusCode}: ${text}`);
  }
  const contentType = mediaType(res.headers['content-type']);
  const messageType = mediaType(res.headers['message-content-type']);
  if (contentType !== 'application/recordio' || (messageType !== undefined && messageType !== 'application/json')) {
    res.body.destroy();
    throw new RegistryWatchError(`${target} answered Content-Type ${contentType ?? '(none)'} / Message-Content-Type ${messageType ?? '(none)'}, expected application/recordio of application/json`);
  }
}

/** The first bytes of an error body, without reading an unbounded one. */
async function readSome(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      text += chunk.toString('utf8');
      if (text.length >= MAX_ERROR_BODY_CHARS) break;
    }
  } catch {
    // The error body is only for the log line.
  }
  body.destroy();
  return text.slice(0, MAX_ERROR_BODY_CHARS);
}

function mediaType(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  return v?.split(';')[0].trim().toLowerCase() || undefined;
}

function normalizeUrl(raw: unknown, path: string): string {
  if (typeof raw !== 'string' || raw === '') throw new ValidationError(path, 'a URL like http://host:port', JSON.stringify(raw));
  const withScheme = /^https?:\/\//.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ValidationError(path, 'a URL like http://host:port', JSON.stringify(raw));
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
