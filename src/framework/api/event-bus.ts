/**
 * Marathon's event stream (`GET /v2/events`, server-sent events). Events are
 * produced while applying committed commands, so every replica has the same
 * ones; each gets the id `<raft index>.<n>`, which a client can send back as
 * `Last-Event-ID` to resume (from any replica) without a gap, as long as the
 * event is still in the bounded history.
 *
 * As in Marathon, `event_stream_attached` and `event_stream_detached` go to
 * every subscriber (a client attaching sees its own), and a subscriber that
 * named `event_type`s gets those types only, these two included. They are
 * this replica's own news, so they carry no id and stay out of the history:
 * a client's resume point does not move past them.
 *
 * Invariants: an event is encoded once and the same bytes go to every
 * subscriber; a subscriber whose socket backs up beyond a bound is cut off
 * (it may resume) rather than buffered without limit; every listener added
 * is removed on close.
 */
import type { Request, Response } from 'express';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import type { MarathonEvent } from '../state/observer.ts';

/** Events kept for Last-Event-ID resumes. */
export const eventHistorySize = 10_000;
/** Bytes a slow subscriber may have unsent before it is dropped. */
export const maxSubscriberBufferedBytes = 8 * 1024 * 1024;
/** A comment line is sent this often so proxies and clients see the stream is alive. */
export const keepAliveIntervalMs = 15_000;

interface StoredEvent {
  readonly id: string;
  readonly type: string;
  readonly frame: Buffer;
}

interface Subscriber {
  readonly res: Response;
  readonly types: ReadonlySet<string> | undefined;
}

export class EventBus {
  private readonly history: StoredEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private lastIndex = -1;
  private seqInIndex = 0;
  private keepAlive: TimerHandle | undefined;

  constructor(private readonly clock: Clock) {}

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  publish(e: MarathonEvent, index: number): void {
    if (index !== this.lastIndex) {
      this.lastIndex = index;
      this.seqInIndex = 0;
    }
    const id = `${index}.${this.seqInIndex++}`;
    const frame = Buffer.from(`id: ${id}\nevent: ${e.eventType}\ndata: ${JSON.stringify(e)}\n\n`);
    const stored = { id, type: e.eventType, frame };
    this.history.push(stored);
    if (this.history.length > eventHistorySize) this.history.splice(0, this.history.length - eventHistorySize);
    for (const s of this.subscribers) this.deliver(s, stored);
  }

  /** Local events (not replicated, e.g. api_post_event) get an id that sorts with the last one. */
  publishLocal(e: MarathonEvent): void {
    this.publish(e, this.lastIndex < 0 ? 0 : this.lastIndex);
  }

  /** Serves one SSE subscriber until it goes away. */
  attach(req: Request, res: Response): void {
    const typeParam = req.query.event_type;
    const list = (Array.isArray(typeParam) ? typeParam : typeParam === undefined ? [] : [typeParam]).map(String).flatMap((t) => t.split(','));
    const types = list.length > 0 ? new Set(list) : undefined;
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Connection', 'keep-alive');
    res.flushHeaders();
    const sub: Subscriber = { res, types };
    const lastId = req.get('last-event-id');
    if (lastId !== undefined) {
      const at = this.history.findIndex((h) => h.id === lastId);
      if (at >= 0) for (const h of this.history.slice(at + 1)) this.deliver(sub, h);
    }
    const remoteAddress = req.ip ?? '';
    this.subscribers.add(sub);
    this.broadcastUnrecorded('event_stream_attached', remoteAddress);
    this.ensureKeepAlive();
    const onClose = () => {
      res.off('close', onClose);
      this.subscribers.delete(sub);
      this.broadcastUnrecorded('event_stream_detached', remoteAddress);
    };
    res.on('close', onClose);
  }

  /** A subscriber came or went: news for every subscriber now, without an id and not kept for resumes. */
  private broadcastUnrecorded(eventType: 'event_stream_attached' | 'event_stream_detached', remoteAddress: string): void {
    const e: MarathonEvent = { eventType, timestamp: new Date(this.clock.nowMs()).toISOString(), remoteAddress };
    const stored: StoredEvent = { id: '', type: eventType, frame: Buffer.from(`event: ${eventType}\ndata: ${JSON.stringify(e)}\n\n`) };
    for (const s of this.subscribers) this.deliver(s, stored);
  }

  close(): void {
    this.keepAlive?.cancel();
    this.keepAlive = undefined;
    for (const s of this.subscribers) s.res.end();
    this.subscribers.clear();
  }

  private deliver(s: Subscriber, e: StoredEvent): void {
    if (s.types !== undefined && !s.types.has(e.type)) return;
    if (s.res.writableEnded || s.res.destroyed) return;
    if (s.res.writableLength > maxSubscriberBufferedBytes) {
      this.subscribers.delete(s);
      s.res.destroy();
      return;
    }
    s.res.write(e.frame);
  }

  private ensureKeepAlive(): void {
    if (this.keepAlive !== undefined) return;
    const tick = () => {
      if (this.subscribers.size === 0) {
        this.keepAlive = undefined;
        return;
      }
      for (const s of this.subscribers) s.res.write(':\n\n');
      this.keepAlive = this.clock.setTimer(keepAliveIntervalMs, tick);
    };
    this.keepAlive = this.clock.setTimer(keepAliveIntervalMs, tick);
  }
}
