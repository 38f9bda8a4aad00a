/**
 * One long-lived streaming HTTP response carrying RecordIO-framed events
 * (a framework's or an agent's stream). One record per write; the socket is
 * flushed with every record (Nagle off). Sends HEARTBEAT events on a Clock.
 *
 * Invariants: after close() nothing more is written and `onClosed` fires
 * exactly once (whether we closed it or the peer went away); a peer that
 * stops reading is cut off once MAX_STREAM_BUFFERED_BYTES are queued rather
 * than growing the master's memory without bound.
 */
import type { Response } from 'express';
import type { Clock, TimerHandle } from '../common/clock.ts';
import type { MessageName } from '../protocol/codec.ts';
import type { MediaType } from '../protocol/media.ts';
import { encodeTrustedRecord } from '../protocol/trusted-encoder.ts';

/** Bytes queued on one stream before the peer is considered stuck and the stream is closed. */
export const MAX_STREAM_BUFFERED_BYTES = 64 * 1024 * 1024;

export interface EventStreamOptions {
  readonly res: Response;
  readonly streamId: string;
  /** Codec of each record. */
  readonly media: MediaType;
  /** `Content-Type` of the response; default `media` (`application/recordio` when the client asked for it). */
  readonly contentType?: string;
  /** `Message-Content-Type` header, sent only with `Content-Type: application/recordio`. */
  readonly messageContentType?: MediaType;
  readonly messageName: MessageName;
  readonly clock: Clock;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatEvent: object;
  readonly onClosed: (why: string) => void;
  readonly onEncodeError?: (err: unknown, event: object) => void;
}

export class EventStream {
  readonly streamId: string;
  private readonly opts: EventStreamOptions;
  private closed = false;
  private heartbeat: TimerHandle | undefined;
  bytesWritten = 0;
  eventsWritten = 0;

  constructor(opts: EventStreamOptions) {
    this.opts = opts;
    this.streamId = opts.streamId;
    const { res } = opts;
    res.status(200);
    res.setHeader('Content-Type', opts.contentType ?? opts.media);
    if (opts.messageContentType !== undefined) res.setHeader('Message-Content-Type', opts.messageContentType);
    res.setHeader('Mesos-Stream-Id', opts.streamId);
    res.setHeader('Cache-Control', 'no-cache');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.socket?.setKeepAlive(true);
    const onGone = (): void => this.finish('peer closed the connection');
    res.on('close', onGone);
    res.on('error', onGone);
    // The peer may have gone before we got here: then 'close' will not fire again.
    if (res.socket === null || res.socket.destroyed) queueMicrotask(onGone);
    this.scheduleHeartbeat();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Writes one event as one record; returns false when the stream is closed. */
  send(event: object): boolean {
    if (this.closed) return false;
    let record: Buffer;
    try {
      // Every event on a stream is one the master built: encoded without re-validation (same bytes).
      record = encodeTrustedRecord(this.opts.messageName, this.opts.media, event);
    } catch (err) {
      // An event that does not encode is a master bug; drop it rather than the daemon.
      this.opts.onEncodeError?.(err, event);
      return false;
    }
    const { res } = this.opts;
    if (res.writableLength + record.byteLength > MAX_STREAM_BUFFERED_BYTES) {
      this.close(`peer is not reading (${res.writableLength} bytes queued)`);
      return false;
    }
    res.write(record);
    this.bytesWritten += record.byteLength;
    this.eventsWritten++;
    return true;
  }

  /** Ends the response (the peer sees end of stream). */
  close(why: string): void {
    if (this.closed) return;
    this.opts.res.end();
    this.finish(why);
  }

  private finish(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
    try {
      this.opts.onClosed(why);
    } catch (err) {
      // Called from socket events: an exception here would take the daemon down.
      this.opts.onEncodeError?.(err, { closed: why });
    }
  }

  private scheduleHeartbeat(): void {
    if (this.opts.heartbeatIntervalMs <= 0) return;
    this.heartbeat = this.opts.clock.setTimer(this.opts.heartbeatIntervalMs, () => {
      if (this.closed) return;
      this.send(this.opts.heartbeatEvent);
      this.scheduleHeartbeat();
    });
  }
}
