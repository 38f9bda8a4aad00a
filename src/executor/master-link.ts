/**
 * The agent's connection to the master's `/api/v1/agent` (I/O shell).
 *
 *   disconnected ──connect──▶ subscribing ──SUBSCRIBED──▶ subscribed
 *        ▲                        │                           │
 *        └──── backoff (jittered, capped) ◀── stream ends / error / silence
 *
 * SUBSCRIBE is a POST whose 200 response is a long-lived RecordIO stream of
 * Events (protobuf by default, JSON selectable); the `Mesos-Stream-Id`
 * response header goes on every later call (UPDATE, HEARTBEAT). A HEARTBEAT
 * call is sent every heartbeat interval (the master's
 * `heartbeat_interval_seconds` when it gives one). If no event at all arrives
 * for SILENCE_HEARTBEATS intervals the stream is presumed dead and re-opened.
 * A malformed event is logged and skipped; a framing error re-connects. The
 * subscribe body is rebuilt for every attempt (current tasks and statuses).
 * Invariant: at most one subscribe stream is open; close() leaves no timers,
 * sockets or listeners behind.
 */
import { Agent as UndiciAgent, request } from 'undici';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { describeError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { Random } from '../common/random.ts';
import type { AgentCall, AgentCallSubscribe, AgentEvent } from '../protocol/agent-types.ts';
import { decodeBody, encodeBody } from '../protocol/codec.ts';
import { describeEvent } from '../protocol/describe.ts';
import type { MediaType } from '../protocol/media.ts';
import { RecordIODecoder } from '../protocol/recordio.ts';
import type { TaskStatus } from './types.ts';

export const DEFAULT_RECONNECT_INITIAL_MS = 500;
export const DEFAULT_RECONNECT_MAX_MS = 30_000;
/** Missed heartbeat intervals without any event before the stream is presumed dead. */
export const SILENCE_HEARTBEATS = 3;
/** Timeout for a single call (UPDATE/HEARTBEAT) and for the subscribe response headers. */
export const CALL_TIMEOUT_MS = 10_000;

export type LinkState = 'disconnected' | 'subscribing' | 'subscribed' | 'closed';

export interface MasterLinkOptions {
  /** host:port of the master. */
  master: string;
  media: MediaType;
  clock: Clock;
  random: Random;
  log: Logger;
  heartbeatIntervalMs: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  buildSubscribe: () => AgentCallSubscribe;
  onEvent: (event: AgentEvent) => void;
  onSubscribed: (agentId: string) => void;
  onDisconnected: () => void;
}

/** Pure: the delay before reconnect attempt `attempt` (0-based): exponential, capped, jittered in [d/2, d]. */
export function computeReconnectDelayMs(attempt: number, initialMs: number, maxMs: number, random: Random): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(d / 2 + random.next() * (d / 2));
}

export class MasterLink {
  private readonly opts: MasterLinkOptions;
  private readonly dispatcher = new UndiciAgent({ keepAliveTimeout: 10_000 });
  private stateValue: LinkState = 'disconnected';
  private streamId: string | undefined;
  private agentId: string | undefined;
  private abort: AbortController | undefined;
  private attempt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private silenceTimer: TimerHandle | undefined;
  private heartbeatMs: number;

  constructor(opts: MasterLinkOptions) {
    this.opts = opts;
    this.heartbeatMs = opts.heartbeatIntervalMs;
  }

  get state(): LinkState {
    return this.stateValue;
  }

  start(): void {
    if (this.stateValue !== 'disconnected') return;
    void this.connect();
  }

  async close(): Promise<void> {
    this.stateValue = 'closed';
    this.clearTimers();
    this.reconnectTimer?.cancel();
    this.abort?.abort(new Error('agent closing'));
    await this.dispatcher.destroy().catch(() => undefined);
  }

  /** POSTs an UPDATE; resolves true on 202. Never throws (the update manager retries). */
  async sendUpdate(frameworkId: string, status: TaskStatus): Promise<boolean> {
    return this.call({ type: 'UPDATE', update: { status, framework_id: { value: frameworkId } } });
  }

  private url(): string {
    return `http://${this.opts.master}/api/v1/agent`;
  }

  private async call(body: Omit<AgentCall, 'agent_id'>): Promise<boolean> {
    if (this.stateValue !== 'subscribed' || this.streamId === undefined || this.agentId === undefined) return false;
    const call: AgentCall = { ...body, agent_id: { value: this.agentId } };
    try {
      const res = await request(this.url(), {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': this.opts.media, accept: this.opts.media, 'mesos-stream-id': this.streamId },
        body: encodeBody('cygnet.agent.Call', this.opts.media, call),
        headersTimeout: CALL_TIMEOUT_MS,
        bodyTimeout: CALL_TIMEOUT_MS,
      });
      const text = await res.body.text();
      if (res.statusCode === 202 || res.statusCode === 200) return true;
      this.opts.log.warn({ status: res.statusCode, body: text.slice(0, 200), call: call.type }, 'master refused call');
      return false;
    } catch (err) {
      this.opts.log.debug({ err: describeError(err), call: call.type }, 'call to master failed');
      return false;
    }
  }

  private async connect(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'subscribing';
    const abort = new AbortController();
    this.abort = abort;
    let subscribed = false;
    try {
      const body = encodeBody('cygnet.agent.Call', this.opts.media, { type: 'SUBSCRIBE', subscribe: this.opts.buildSubscribe() });
      const res = await request(this.url(), {
        method: 'POST',
        dispatcher: this.dispatcher,
        signal: abort.signal,
        headers: { 'content-type': this.opts.media, accept: this.opts.media },
        body,
        headersTimeout: CALL_TIMEOUT_MS,
        bodyTimeout: 0,
      });
      if (res.statusCode !== 200) {
        const text = await res.body.text().catch(() => '');
        throw new Error(`SUBSCRIBE answered ${res.statusCode}: ${text.slice(0, 200)}`);
      }
      const sid = res.headers['mesos-stream-id'];
      this.streamId = typeof sid === 'string' ? sid : undefined;
      const decoder = new RecordIODecoder();
      this.armSilenceTimer(abort);
      for await (const chunk of res.body) {
        for (const record of decoder.push(chunk as Uint8Array)) {
          const event = this.decode(record);
          if (event !== undefined && event.type === 'SUBSCRIBED') subscribed = this.handleSubscribed(event) || subscribed;
          else if (event !== undefined && subscribed) this.dispatch(event);
          // Re-armed after handling: SUBSCRIBED may have changed the interval.
          if (this.state !== 'closed') this.armSilenceTimer(abort);
        }
      }
      this.opts.log.info('master closed the event stream');
    } catch (err) {
      if (this.state !== 'closed') this.opts.log.warn({ err: describeError(err), master: this.opts.master }, 'master link down');
    }
    this.clearTimers();
    const wasSubscribed = this.state === 'subscribed';
    this.streamId = undefined;
    if (this.state === 'closed') return;
    this.stateValue = 'disconnected';
    if (wasSubscribed) this.opts.onDisconnected();
    if (subscribed) this.attempt = 0;
    const delay = computeReconnectDelayMs(this.attempt++, this.opts.reconnectInitialMs ?? DEFAULT_RECONNECT_INITIAL_MS,
      this.opts.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS, this.opts.random);
    this.reconnectTimer = this.opts.clock.setTimer(delay, () => { void this.connect(); });
  }

  private decode(record: Uint8Array): AgentEvent | undefined {
    try {
      return decodeBody<AgentEvent>('cygnet.agent.Event', this.opts.media, record);
    } catch (err) {
      this.opts.log.warn({ err: describeError(err) }, 'malformed event from master skipped');
      return undefined;
    }
  }

  private handleSubscribed(event: AgentEvent): boolean {
    const id = event.subscribed?.agent_id?.value;
    if (typeof id !== 'string' || id === '') {
      this.opts.log.warn('SUBSCRIBED without agent_id skipped');
      return false;
    }
    this.agentId = id;
    const hb = event.subscribed?.heartbeat_interval_seconds;
    if (typeof hb === 'number' && hb > 0) this.heartbeatMs = hb * 1000;
    this.stateValue = 'subscribed';
    this.attempt = 0;
    this.opts.log.info({ agentId: id, master: this.opts.master }, 'subscribed to master');
    this.scheduleHeartbeat();
    this.opts.onSubscribed(id);
    return true;
  }

  private dispatch(event: AgentEvent): void {
    this.opts.log.debug({ event: describeEvent(event) }, 'event');
    try {
      this.opts.onEvent(event);
    } catch (err) {
      this.opts.log.error({ err: describeError(err), event: describeEvent(event) }, 'event handler failed');
    }
  }

  private scheduleHeartbeat(): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = this.opts.clock.setTimer(this.heartbeatMs, () => {
      if (this.stateValue !== 'subscribed') return;
      void this.call({ type: 'HEARTBEAT' });
      this.scheduleHeartbeat();
    });
  }

  private armSilenceTimer(abort: AbortController): void {
    this.silenceTimer?.cancel();
    this.silenceTimer = this.opts.clock.setTimer(this.heartbeatMs * SILENCE_HEARTBEATS, () => {
      this.opts.log.warn('no event from master for too long; reconnecting');
      abort.abort(new Error('master silent'));
    });
  }

  private clearTimers(): void {
    this.heartbeatTimer?.cancel();
    this.silenceTimer?.cancel();
    this.heartbeatTimer = undefined;
    this.silenceTimer = undefined;
  }
}
