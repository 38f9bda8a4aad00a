/**
 * SchedulerClient: a client for the Mesos v1 Scheduler API (`POST /api/v1/scheduler`),
 * for cygnet's master or any Mesos master.
 *
 * It owns one subscription at a time: SUBSCRIBE opens a long-lived response
 * read as RecordIO; the `Mesos-Stream-Id` header and the framework id from
 * SUBSCRIBED are remembered and sent with every call. When the stream ends,
 * errors, or stays silent for 2 heartbeat intervals, the client reconnects with
 * capped, jittered backoff and re-subscribes with the same framework id
 * (failover), following 307 leader redirects and rotating through `masters`.
 * A SUBSCRIBE the master rejects with 4xx (bad FrameworkInfo, ...) or an ERROR
 * event (framework removed) ends the client for good: no reconnect.
 *
 *     import { SchedulerClient } from './src/framework/sdk/index.ts';
 *     const client = new SchedulerClient({
 *       masters: ['127.0.0.1:5050'],
 *       frameworkInfo: { user: 'me', name: 'hello', failover_timeout: 60 },
 *     });
 *     client.on('offers', (offers) => {
 *       const [offer, ...rest] = offers;
 *       void client.decline(rest.map((o) => o.id.value));
 *       if (offer) void client.launch(offer, [{
 *         name: 'hello', task_id: { value: 'hello-1' }, agent_id: offer.agent_id,
 *         resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
 *                     { name: 'mem', type: 'SCALAR', scalar: { value: 32 } }],
 *         command: { value: 'echo hello; sleep 30' },
 *       }]);
 *     });
 *     client.on('update', (status) => { console.log(status.task_id.value, status.state); void client.acknowledge(status); });
 *     await client.subscribe();
 *     // ... later: await client.teardown() (framework gone) or client.close() (may fail over)
 *
 * Invariants: at most one subscription stream is open; a call is only sent
 * while subscribed (it carries the current stream id); after `close()` no
 * timer, socket or listener remains. Time and jitter come from the injected
 * Clock and Random.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.ts';
import { componentLogger, type Logger } from '../../common/log.ts';
import { systemRandom, type Random } from '../../common/random.ts';
import { ValidationError, describeError } from '../../common/errors.ts';
import type {
  Filters,
  FrameworkInfo,
  Offer,
  OfferOperation,
  SchedulerCall,
  SchedulerCallReconcileTask,
  SchedulerEvent,
  TaskInfo,
  TaskStatus,
} from '../../protocol/mesos-types.ts';
import { computeBackoffMs, defaultBackoffPolicy, type BackoffPolicy } from './backoff.ts';
import { SchedulerCallError, SchedulerConnectionError, SchedulerStateError } from './errors.ts';
import { SchedulerListeners, type SchedulerEventMap, type SchedulerEventName, type SubscribedInfo } from './events.ts';
import { HeartbeatWatchdog } from './heartbeat-watchdog.ts';
import { RecordIODecoder } from '../../protocol/recordio.ts';
import { createWire, type SchedulerContentType, type SchedulerWire } from './wire.ts';

export interface SchedulerClientOptions {
  /** `host:port` (or `http://host:port`) of every master; tried in order. */
  readonly masters: readonly string[];
  readonly frameworkInfo: FrameworkInfo;
  /** Wire format of calls and events (default json). */
  readonly contentType?: SchedulerContentType;
  /** Acknowledge every update with a uuid right after the `update` listeners ran (default false). */
  readonly autoAcknowledge?: boolean;
  readonly backoff?: BackoffPolicy;
  /** Headers deadline of SUBSCRIBE and whole-call deadline of other calls (default 10 s). */
  readonly callTimeoutMs?: number;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
}

export type SchedulerClientState = 'idle' | 'connecting' | 'subscribed' | 'backoff' | 'closed';

/** Redirect hops followed for one SUBSCRIBE before treating it as a failed attempt. */
export const maxRedirectsPerAttempt = 4;
/** Mesos' default when SUBSCRIBED carries no interval. */
const defaultHeartbeatIntervalSeconds = 15;
const defaultCallTimeoutMs = 10_000;
/** close() lets in-flight calls finish for at most this long before cutting the sockets. */
export const closeDrainTimeoutMs = 5_000;
/** Error bodies are truncated to this many characters in messages. */
const maxErrorBodyChars = 2_000;

type AttemptOutcome =
  | { readonly kind: 'ended'; readonly reason: string; readonly wasSubscribed: boolean }
  | { readonly kind: 'rejected'; readonly error: SchedulerCallError }
  | { readonly kind: 'closed' };

export class SchedulerClient {
  private readonly masters: readonly string[];
  private readonly frameworkInfo: FrameworkInfo;
  private readonly wire: SchedulerWire;
  private readonly autoAcknowledge: boolean;
  private readonly backoff: BackoffPolicy;
  private readonly callTimeoutMs: number;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly listeners: SchedulerListeners;
  private readonly dispatcher: Agent;
  private readonly watchdog: HeartbeatWatchdog;

  private currentState: SchedulerClientState = 'idle';
  private masterIndex = 0;
  private leaderUrl: string | undefined;
  private streamId: string | undefined;
  private currentFrameworkId: string | undefined;
  private streamAbort: AbortController | undefined;
  private backoffTimer: TimerHandle | undefined;
  private wakeBackoff: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private firstSubscribed: { resolve: (i: SubscribedInfo) => void; reject: (e: Error) => void } | undefined;

  constructor(options: SchedulerClientOptions) {
    if (!Array.isArray(options.masters) || options.masters.length === 0) {
      throw new ValidationError('masters', 'a non-empty list of host:port', JSON.stringify(options.masters));
    }
    options.masters.forEach((m, i) => {
      if (typeof m !== 'string' || !/^(https?:\/\/)?[^/\s:]+:\d{1,5}\/?$/.test(m)) {
        throw new ValidationError(`masters[${i}]`, 'host:port', JSON.stringify(m));
      }
    });
    const fi = options.frameworkInfo;
    if (typeof fi !== 'object' || fi === null) throw new ValidationError('frameworkInfo', 'an object', typeof fi);
    if (typeof fi.user !== 'string') throw new ValidationError('frameworkInfo.user', 'a string', typeof fi.user);
    if (typeof fi.name !== 'string') throw new ValidationError('frameworkInfo.name', 'a string', typeof fi.name);
    this.masters = options.masters.map((m) => (m.startsWith('http') ? m.replace(/\/$/, '') : `http://${m}`));
    this.frameworkInfo = fi;
    this.currentFrameworkId = fi.id?.value;
    this.wire = createWire(options.contentType ?? 'json');
    this.autoAcknowledge = options.autoAcknowledge ?? false;
    this.backoff = options.backoff ?? defaultBackoffPolicy;
    this.callTimeoutMs = options.callTimeoutMs ?? defaultCallTimeoutMs;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.log = options.logger ?? componentLogger('scheduler-sdk', { framework: fi.name });
    this.listeners = new SchedulerListeners(this.log);
    this.dispatcher = new Agent({ bodyTimeout: 0, headersTimeout: this.callTimeoutMs, connectTimeout: this.callTimeoutMs });
    this.watchdog = new HeartbeatWatchdog(this.clock, (silentMs) => {
      this.log.warn({ silentMs }, 'no event from master within 2 heartbeat intervals; reconnecting');
      this.streamAbort?.abort(new Error(`missed heartbeats: nothing for ${silentMs} ms`));
    });
  }

  get state(): SchedulerClientState {
    return this.currentState;
  }

  /** The framework id once subscribed (or the one given in frameworkInfo). */
  get frameworkId(): string | undefined {
    return this.currentFrameworkId;
  }

  /** `http://host:port` of the master currently subscribed to. */
  get masterUrl(): string | undefined {
    return this.currentState === 'subscribed' ? this.leaderUrl : undefined;
  }

  describe(): string {
    return `scheduler-client ${this.currentState} framework=${this.currentFrameworkId ?? '-'} master=${this.leaderUrl ?? '-'} stream=${this.streamId ?? '-'}`;
  }

  on<K extends SchedulerEventName>(name: K, fn: SchedulerEventMap[K]): () => void {
    return this.listeners.on(name, fn);
  }

  /**
   * Starts the subscription loop; resolves with the first SUBSCRIBED. Rejects
   * with SchedulerCallError if the master refuses the SUBSCRIBE (4xx), or with
   * SchedulerStateError if the client is closed first. Unreachable masters are
   * retried (with backoff) until one answers.
   */
  subscribe(): Promise<SubscribedInfo> {
    if (this.currentState === 'closed') return Promise.reject(new SchedulerStateError('subscribe: client is closed'));
    if (this.loop !== undefined) return Promise.reject(new SchedulerStateError('subscribe: already subscribing'));
    const first = new Promise<SubscribedInfo>((resolve, reject) => {
      this.firstSubscribed = { resolve, reject };
    });
    this.loop = this.runLoop().catch((err: unknown) => {
      this.log.error({ err }, 'subscription loop failed');
    });
    return first;
  }

  // ---- calls --------------------------------------------------------------

  accept(offerIds: readonly string[], operations: readonly OfferOperation[], filters?: Filters): Promise<void> {
    return this.call({
      type: 'ACCEPT',
      accept: { offer_ids: offerIds.map((value) => ({ value })), operations: [...operations], ...(filters ? { filters } : {}) },
    });
  }

  /** ACCEPT `offer` with one LAUNCH of `tasks`; each task's agent_id defaults to the offer's. */
  launch(offer: Offer, tasks: readonly TaskInfo[], filters?: Filters): Promise<void> {
    const taskInfos = tasks.map((t) => ({ ...t, agent_id: t.agent_id ?? offer.agent_id }));
    return this.accept([offer.id.value], [{ type: 'LAUNCH', launch: { task_infos: taskInfos } }], filters);
  }

  decline(offerIds: readonly string[], filters?: Filters): Promise<void> {
    if (offerIds.length === 0) return Promise.resolve();
    return this.call({ type: 'DECLINE', decline: { offer_ids: offerIds.map((value) => ({ value })), ...(filters ? { filters } : {}) } });
  }

  revive(roles?: readonly string[]): Promise<void> {
    return this.call({ type: 'REVIVE', ...(roles ? { revive: { roles: [...roles] } } : {}) });
  }

  suppress(roles?: readonly string[]): Promise<void> {
    return this.call({ type: 'SUPPRESS', ...(roles ? { suppress: { roles: [...roles] } } : {}) });
  }

  kill(taskId: string, agentId?: string): Promise<void> {
    return this.call({
      type: 'KILL',
      kill: { task_id: { value: taskId }, ...(agentId !== undefined ? { agent_id: { value: agentId } } : {}) },
    });
  }

  /** Acknowledges `status`; a no-op for updates without a uuid (those need no ACK). */
  acknowledge(status: TaskStatus): Promise<void> {
    if (status.uuid === undefined || status.uuid === '') return Promise.resolve();
    if (status.agent_id === undefined) {
      return Promise.reject(new ValidationError('status.agent_id', 'an agent id on an update with a uuid'));
    }
    return this.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid } });
  }

  /** Explicit reconciliation of `tasks`; with none, implicit reconciliation of all the framework's tasks. */
  reconcile(tasks: readonly { taskId: string; agentId?: string }[] = []): Promise<void> {
    const list: SchedulerCallReconcileTask[] = tasks.map((t) => ({
      task_id: { value: t.taskId },
      ...(t.agentId !== undefined ? { agent_id: { value: t.agentId } } : {}),
    }));
    return this.call({ type: 'RECONCILE', reconcile: { tasks: list } });
  }

  /** Sends framework `data` (raw bytes or a string, sent base64) to an executor. */
  message(agentId: string, executorId: string, data: Uint8Array | string): Promise<void> {
    const b64 = Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64');
    return this.call({ type: 'MESSAGE', message: { agent_id: { value: agentId }, executor_id: { value: executorId }, data: b64 } });
  }

  /** TEARDOWN: the master kills all the framework's tasks and forgets it; then the client closes. */
  async teardown(): Promise<void> {
    try {
      await this.call({ type: 'TEARDOWN' });
    } finally {
      await this.close();
    }
  }

  /**
   * Sends any Scheduler call on the current subscription (framework_id is
   * filled in). Resolves on 202 Accepted; rejects with SchedulerCallError
   * (status + Mesos' message) on any other answer.
   */
  async call(call: SchedulerCall): Promise<void> {
    const callType = call.type ?? 'UNKNOWN';
    if (this.currentState !== 'subscribed' || this.streamId === undefined || this.leaderUrl === undefined) {
      throw new SchedulerStateError(`${callType}: not subscribed (${this.currentState})`);
    }
    const url = `${this.leaderUrl}/api/v1/scheduler`;
    const body = this.wire.encodeCall({ ...call, framework_id: { value: this.currentFrameworkId ?? '' } });
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': this.wire.mediaType, accept: this.wire.mediaType, 'mesos-stream-id': this.streamId },
        body,
        headersTimeout: this.callTimeoutMs,
        bodyTimeout: this.callTimeoutMs,
      });
    } catch (err) {
      throw new SchedulerConnectionError(url, err);
    }
    const text = await res.body.text().catch(() => '');
    if (res.statusCode !== 202 && res.statusCode !== 200) {
      throw new SchedulerCallError(callType, res.statusCode, text.slice(0, maxErrorBodyChars));
    }
  }

  /**
   * Stops reconnecting and closes the stream; calls already in flight may
   * finish (bounded by closeDrainTimeoutMs), then every socket closes. The
   * framework stays registered with the master (it may fail over).
   */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.becomeClosed();
    this.streamAbort?.abort(new Error('client closed'));
    this.wakeBackoff?.();
    await this.loop;
    this.listeners.clear();
    // Drain: calls already in flight (an ACK, a DECLINE) complete; then the sockets close.
    let drained = false;
    const timer = this.clock.setTimer(closeDrainTimeoutMs, () => {
      if (!drained) void this.dispatcher.destroy().catch(() => undefined);
    });
    await this.dispatcher.close().catch(() => undefined);
    drained = true;
    timer.cancel();
  }

  // ---- the subscription loop ---------------------------------------------

  private becomeClosed(): void {
    this.currentState = 'closed';
    this.watchdog.stop();
    this.backoffTimer?.cancel();
    this.streamId = undefined;
    this.firstSubscribed?.reject(new SchedulerStateError('subscribe: client closed before SUBSCRIBED'));
    this.firstSubscribed = undefined;
  }

  private async runLoop(): Promise<void> {
    let failedAttempts = 0;
    while (this.currentState !== 'closed') {
      this.currentState = 'connecting';
      const outcome = await this.attempt();
      this.watchdog.stop();
      this.streamId = undefined;
      if (outcome.kind === 'closed' || (this.currentState as SchedulerClientState) === 'closed') return;
      if (outcome.kind === 'rejected') {
        this.listeners.emit('error', outcome.error.message);
        this.listeners.emit('disconnected', { reason: outcome.error.message, retryInMs: undefined });
        this.firstSubscribed?.reject(outcome.error);
        this.firstSubscribed = undefined;
        this.becomeClosed();
        return;
      }
      failedAttempts = outcome.wasSubscribed ? 0 : failedAttempts + 1;
      const delayMs = computeBackoffMs(failedAttempts, this.backoff, this.random);
      this.log.info({ reason: outcome.reason, delayMs }, 'subscription ended; reconnecting');
      this.currentState = 'backoff';
      this.listeners.emit('disconnected', { reason: outcome.reason, retryInMs: delayMs });
      await this.sleep(delayMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.backoffTimer?.cancel();
        this.backoffTimer = undefined;
        this.wakeBackoff = undefined;
        resolve();
      };
      this.wakeBackoff = done;
      this.backoffTimer = this.clock.setTimer(ms, done);
    });
  }

  /** One SUBSCRIBE (following redirects) and, if accepted, reading its stream until it ends. */
  private async attempt(): Promise<AttemptOutcome> {
    let base = this.leaderUrl ?? this.masters[this.masterIndex % this.masters.length];
    for (let hop = 0; hop <= maxRedirectsPerAttempt; hop++) {
      const abort = new AbortController();
      this.streamAbort = abort;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(`${base}/api/v1/scheduler`, {
          method: 'POST',
          dispatcher: this.dispatcher,
          headers: { 'content-type': this.wire.mediaType, accept: this.wire.mediaType },
          body: this.wire.encodeCall(this.subscribeCall()),
          signal: abort.signal,
          headersTimeout: this.callTimeoutMs,
          bodyTimeout: 0,
        });
      } catch (err) {
        if (this.currentState === 'closed') return { kind: 'closed' };
        this.leaderUrl = undefined;
        this.masterIndex++;
        return { kind: 'ended', reason: new SchedulerConnectionError(base, err).message, wasSubscribed: false };
      }
      if (res.statusCode === 307) {
        const location = headerValue(res.headers, 'location');
        await res.body.dump().catch(() => undefined);
        const next = location === undefined ? undefined : resolveLocation(location, base);
        if (next === undefined) return { kind: 'ended', reason: `307 from ${base} without a usable Location`, wasSubscribed: false };
        this.log.info({ from: base, to: next }, 'following leader redirect');
        base = next;
        this.leaderUrl = next;
        continue;
      }
      if (res.statusCode !== 200) {
        const text = (await res.body.text().catch(() => '')).slice(0, maxErrorBodyChars);
        const error = new SchedulerCallError('SUBSCRIBE', res.statusCode, text);
        if (res.statusCode >= 400 && res.statusCode < 500) return { kind: 'rejected', error };
        this.leaderUrl = undefined;
        this.masterIndex++;
        return { kind: 'ended', reason: error.message, wasSubscribed: false };
      }
      this.leaderUrl = base;
      return this.readStream(res, base, abort);
    }
    this.leaderUrl = undefined;
    return { kind: 'ended', reason: `more than ${maxRedirectsPerAttempt} redirects`, wasSubscribed: false };
  }

  private subscribeCall(): SchedulerCall {
    const id = this.currentFrameworkId;
    const frameworkInfo: FrameworkInfo = { ...this.frameworkInfo, ...(id !== undefined ? { id: { value: id } } : {}) };
    return { type: 'SUBSCRIBE', ...(id !== undefined ? { framework_id: { value: id } } : {}), subscribe: { framework_info: frameworkInfo } };
  }

  private async readStream(res: Dispatcher.ResponseData, base: string, abort: AbortController): Promise<AttemptOutcome> {
    const streamId = headerValue(res.headers, 'mesos-stream-id');
    const decoder = new RecordIODecoder();
    const failover = this.currentFrameworkId !== undefined;
    let subscribed = false;
    // The master should answer with SUBSCRIBED promptly; arm the watchdog until then.
    this.watchdog.start(this.callTimeoutMs / 2);
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        this.watchdog.touch();
        for (const record of decoder.push(chunk)) {
          let event: SchedulerEvent;
          try {
            event = this.wire.decodeEvent(record);
          } catch (err) {
            // One event this SDK cannot read (a newer master's event type, say) is skipped: ending the
            // stream over it would resubscribe into the same event again and again.
            if (!(err instanceof ValidationError)) throw err;
            this.log.warn({ err: describeError(err) }, 'skipped an event this SDK cannot read');
            continue;
          }
          if (event.type === 'SUBSCRIBED') {
            subscribed = true;
            this.handleSubscribed(event, streamId, base, failover);
          } else if (event.type === 'ERROR') {
            const message = event.error?.message ?? 'ERROR event without a message';
            abort.abort(new Error(message));
            return { kind: 'rejected', error: new SchedulerCallError('SUBSCRIBE', 200, `ERROR event: ${message}`) };
          } else if (subscribed) {
            this.dispatchEvent(event);
          }
          if (abort.signal.aborted) break;
        }
        if (abort.signal.aborted) break;
      }
    } catch (err) {
      if (this.currentState === 'closed') return { kind: 'closed' };
      const reason = abort.signal.aborted ? describeError(abort.signal.reason) : `stream error: ${describeError(err)}`;
      if (!abort.signal.aborted) abort.abort(err);
      return { kind: 'ended', reason, wasSubscribed: subscribed };
    }
    if (this.currentState === 'closed') return { kind: 'closed' };
    const reason = abort.signal.aborted ? describeError(abort.signal.reason) : 'master closed the stream';
    if (!abort.signal.aborted) abort.abort(new Error(reason));
    return { kind: 'ended', reason, wasSubscribed: subscribed };
  }

  private handleSubscribed(event: SchedulerEvent, streamId: string | undefined, base: string, failover: boolean): void {
    const sub = event.subscribed;
    if (sub === undefined || typeof sub.framework_id?.value !== 'string') {
      throw new ValidationError('event.subscribed.framework_id.value', 'a string');
    }
    if (streamId === undefined) throw new ValidationError('Mesos-Stream-Id', 'a header on the SUBSCRIBE response');
    const heartbeatIntervalSeconds = sub.heartbeat_interval_seconds ?? defaultHeartbeatIntervalSeconds;
    this.currentFrameworkId = sub.framework_id.value;
    this.streamId = streamId;
    this.currentState = 'subscribed';
    this.watchdog.start(heartbeatIntervalSeconds * 1000);
    const info: SubscribedInfo = {
      frameworkId: sub.framework_id.value,
      streamId,
      heartbeatIntervalSeconds,
      masterUrl: base,
      failover,
      ...(sub.master_info ? { masterInfo: sub.master_info } : {}),
    };
    this.log.info({ frameworkId: info.frameworkId, master: base, failover }, 'subscribed');
    this.listeners.emit('subscribed', info);
    this.firstSubscribed?.resolve(info);
    this.firstSubscribed = undefined;
  }

  private dispatchEvent(event: SchedulerEvent): void {
    switch (event.type) {
      case 'OFFERS':
        this.listeners.emit('offers', event.offers?.offers ?? []);
        return;
      case 'RESCIND':
        if (event.rescind?.offer_id?.value !== undefined) this.listeners.emit('rescind', event.rescind.offer_id.value);
        return;
      case 'UPDATE': {
        const status = event.update?.status;
        if (status === undefined) return;
        this.listeners.emit('update', status);
        if (this.autoAcknowledge) {
          this.acknowledge(status).catch((err: unknown) => this.log.warn({ err }, 'auto-acknowledge failed'));
        }
        return;
      }
      case 'MESSAGE':
        if (event.message !== undefined) this.listeners.emit('message', event.message);
        return;
      case 'FAILURE':
        this.listeners.emit('failure', event.failure ?? {});
        return;
      case 'HEARTBEAT':
        this.listeners.emit('heartbeat');
        return;
      default:
        this.log.debug({ type: event.type }, 'ignoring scheduler event');
    }
  }
}

function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Mesos sends `Location: //host:port/api/v1/scheduler`; returns `http://host:port`. */
function resolveLocation(location: string, base: string): string | undefined {
  try {
    const url = new URL(location, base);
    return `${url.protocol}//${url.host}`;
  } catch {
    return undefined;
  }
}
