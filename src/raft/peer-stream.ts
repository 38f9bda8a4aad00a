/**
 * The sending half of the Raft peer stream: one long-lived TCP connection per
 * peer, opened with an HTTP/1.1 Upgrade (`GET /raft/v1/stream`,
 * `Upgrade: cygnet-raft-stream/1`), then one-way length-prefixed frames
 * (`stream-frames.ts`), each a protobuf `MessageBatch` of everything queued.
 *
 * Why not a POST per batch: every request costs the peer a response and us a
 * wake-up to read it (two socket writes and two reads per batch instead of
 * one) — on a busy 2-core machine that was most of the per-write CPU, and
 * undici never pipelines POSTs, so each batch also waited a round trip.
 *
 * Invariants:
 *  - One connection per peer, frames written in `enqueue` order: the peer
 *    receives messages in send order (Raft tolerates loss, not reordering
 *    within a link being common).
 *  - Never blocks, never throws. Bounded: MAX_QUEUED_MESSAGES_PER_PEER queued
 *    (oldest dropped beyond it); while the socket buffer is over its high-water
 *    mark nothing more is written, and a peer that stops reading for
 *    SEND_TIMEOUT_MS loses the connection.
 *  - After a failed connect the oldest batch is dropped (counted `failed`:
 *    Raft re-sends from its own state) and the next attempt waits an
 *    exponential backoff (SEND_BACKOFF_MIN_MS..MAX_MS), reset by a connect; the
 *    connect deadline likewise grows (CONNECT_TIMEOUT_MS..MAX_MS) so a starved
 *    but live peer is eventually reached.
 *  - A connection we keep writing to while the peer says nothing back (on its
 *    own stream to us) for SILENT_PEER_MS is dropped and opened again
 *    (`dropIfSilent`). Every Raft message gets an answer within a tick or
 *    two; a link that went silent (a partition: the kernel accepts our
 *    writes, and retransmits them with a backoff that reaches tens of
 *    seconds) would otherwise stay dead well after the network heals.
 */
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { describeError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { encodeBatch } from './codec.ts';
import { encodeFrame } from './stream-frames.ts';
import type { Message, NodeId } from './types.ts';

export const RAFT_STREAM_PATH = '/raft/v1/stream';
export const RAFT_STREAM_PROTOCOL = 'cygnet-raft-stream/1';

/** Per-peer queue bound: a few election timeouts of traffic; beyond it the oldest is stale anyway. */
export const MAX_QUEUED_MESSAGES_PER_PEER = 4096;
/** Messages per frame. */
export const MAX_MESSAGES_PER_REQUEST = 512;
/** Payload bytes per frame (approximate): a batch is cut here so it always fits MAX_BODY_BYTES. */
export const MAX_BYTES_PER_REQUEST = 16 * 1024 * 1024;
/** Inbound frame/body limit: a sender cuts batches at MAX_BYTES_PER_REQUEST; one message (≤ the core's maxBytesPerMsg / snapshot chunk) fits easily. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Backoff after a failed connect: doubles from min to max, reset by a success. */
export const SEND_BACKOFF_MIN_MS = 20;
export const SEND_BACKOFF_MAX_MS = 1000;
/** A peer that stops reading (socket buffer stays full) this long loses the connection. */
export const SEND_TIMEOUT_MS = 5000;
/**
 * How long a connect + upgrade may take before the attempt is abandoned: starts at
 * CONNECT_TIMEOUT_MS and doubles with each consecutive failure up to CONNECT_TIMEOUT_MAX_MS
 * (reset by a success). A fixed timeout shorter than a starved peer's event-loop lag would
 * fail every attempt for as long as the load lasts, keeping the link down.
 */
export const CONNECT_TIMEOUT_MS = 1000;
export const CONNECT_TIMEOUT_MAX_MS = 8000;
/** Writing this long to a peer that says nothing back drops the connection (several election timeouts). */
export const SILENT_PEER_MS = 3000;

export class PeerStream {
  readonly address: string;
  private readonly from: NodeId;
  private readonly to: NodeId;
  private readonly host: string;
  private readonly port: number;
  private readonly meta: () => string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private queue: Message[] = [];
  private socket: Socket | undefined;
  private connecting = false;
  private backoffMs = 0;
  private connectFailures = 0;
  private backoffTimer: TimerHandle | undefined;
  private drainTimer: TimerHandle | undefined;
  /** When we first wrote to the current connection after the peer was last heard from (clock ms). */
  private writingSinceMs: number | undefined;
  private lastWriteMs = 0;
  private closed = false;
  sent = 0;
  failed = 0;
  dropped = 0;

  constructor(from: NodeId, to: NodeId, address: string, hostPort: { host: string; port: number }, meta: () => string, clock: Clock, log: Logger) {
    this.from = from;
    this.to = to;
    this.address = address;
    this.host = hostPort.host;
    this.port = hostPort.port;
    this.meta = meta;
    this.clock = clock;
    this.log = log;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues `m`; call `flush()` after queueing a Ready's messages so they share one frame. */
  enqueue(m: Message): void {
    if (this.closed) return;
    this.queue.push(m);
    if (this.queue.length > MAX_QUEUED_MESSAGES_PER_PEER) {
      const over = this.queue.length - MAX_QUEUED_MESSAGES_PER_PEER;
      this.queue.splice(0, over);
      this.dropped += over;
    }
  }

  /** Writes what is queued now if connected (connecting first if needed and allowed). */
  flush(): void {
    if (this.closed || this.queue.length === 0) return;
    if (this.socket !== undefined) this.pump(this.socket);
    else if (!this.connecting && this.backoffTimer === undefined) this.connect();
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.backoffTimer?.cancel();
    this.drainTimer?.cancel();
    this.socket?.destroy();
    this.socket = undefined;
  }

  /**
   * Drops the connection (true) when we have been writing to it for SILENT_PEER_MS and the peer,
   * last heard from at `lastHeardMs`, has said nothing since; the next flush connects again.
   */
  dropIfSilent(lastHeardMs: number | undefined): boolean {
    const since = this.writingSinceMs;
    if (this.socket === undefined || since === undefined) return false;
    if (lastHeardMs !== undefined && lastHeardMs >= since) {
      this.writingSinceMs = undefined;
      return false;
    }
    const silentMs = this.clock.nowMs() - since;
    if (silentMs < SILENT_PEER_MS) return false;
    this.log.info({ to: this.to, silentMs }, 'raft peer said nothing back while we wrote to it; reconnecting');
    this.writingSinceMs = undefined;
    this.socket.destroy();
    return true;
  }

  private pump(socket: Socket): void {
    if (this.queue.length > 0) {
      // Only steady writing counts: a write after a long pause (a vote request, years after the
      // last election) starts a new span instead of finding the link "silent" since then.
      const now = this.clock.nowMs();
      if (this.writingSinceMs === undefined || now - this.lastWriteMs > SILENT_PEER_MS) this.writingSinceMs = now;
      this.lastWriteMs = now;
    }
    while (this.queue.length > 0 && !socket.writableNeedDrain) {
      const batch = this.queue.splice(0, cutBatch(this.queue));
      socket.write(encodeFrame(encodeBatch(this.from, batch, this.meta())));
      this.sent += batch.length;
    }
    if (socket.writableNeedDrain && this.drainTimer === undefined) {
      this.drainTimer = this.clock.setTimer(SEND_TIMEOUT_MS, () => {
        this.drainTimer = undefined;
        if (this.socket === socket && socket.writableNeedDrain) socket.destroy(new Error(`peer ${this.to} read nothing for ${SEND_TIMEOUT_MS} ms`));
      });
    }
  }

  private connect(): void {
    this.connecting = true;
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      this.connecting = false;
      this.connectFailed(why);
    };
    const timeoutMs = connectTimeoutMs(this.connectFailures);
    const req = httpRequest({
      host: this.host,
      port: this.port,
      method: 'GET',
      path: RAFT_STREAM_PATH,
      agent: false,
      timeout: timeoutMs,
      headers: { connection: 'Upgrade', upgrade: RAFT_STREAM_PROTOCOL },
    });
    req.on('upgrade', (_res, socket: Socket) => {
      if (settled || this.closed) {
        socket.destroy();
        return;
      }
      settled = true;
      this.connecting = false;
      this.attach(socket);
    });
    req.on('response', (res) => {
      res.resume();
      fail(`peer answered ${res.statusCode ?? 0} instead of 101 to the stream upgrade`);
    });
    req.on('timeout', () => req.destroy(new Error(`no upgrade within ${timeoutMs} ms`)));
    req.on('error', (err) => fail(describeError(err)));
    req.end();
  }

  private attach(socket: Socket): void {
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    this.socket = socket;
    this.backoffMs = 0;
    this.connectFailures = 0;
    socket.on('data', () => undefined); // the peer sends nothing after 101
    // The peer never half-closes on purpose: an 'end' means it is gone; drop the socket now
    // rather than waiting for a write to fail.
    socket.on('end', () => socket.destroy());
    socket.on('drain', () => {
      this.drainTimer?.cancel();
      this.drainTimer = undefined;
      if (this.socket === socket) this.pump(socket);
    });
    socket.on('error', (err) => {
      if (!this.closed) this.log.debug({ to: this.to, err: describeError(err) }, 'raft stream failed');
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.writingSinceMs = undefined;
      this.drainTimer?.cancel();
      this.drainTimer = undefined;
      // Whatever was in flight is lost (Raft re-sends). Reconnect at once if there is more to say.
      this.flush();
    });
    this.pump(socket);
  }

  private connectFailed(why: string): void {
    if (this.closed) return;
    this.log.debug({ to: this.to, why }, 'raft stream connect failed');
    this.connectFailures++;
    const lost = this.queue.splice(0, cutBatch(this.queue));
    this.failed += lost.length;
    this.backoffMs = Math.min(SEND_BACKOFF_MAX_MS, this.backoffMs === 0 ? SEND_BACKOFF_MIN_MS : this.backoffMs * 2);
    this.backoffTimer = this.clock.setTimer(this.backoffMs, () => {
      this.backoffTimer = undefined;
      this.flush();
    });
  }
}

/** The connect + upgrade deadline after `failures` consecutive failed attempts. */
export function connectTimeoutMs(failures: number): number {
  return Math.min(CONNECT_TIMEOUT_MAX_MS, CONNECT_TIMEOUT_MS * 2 ** Math.min(failures, 16));
}

/** How many queued messages go in the next frame (by count and approximate bytes). */
function cutBatch(queue: readonly Message[]): number {
  let n = 0;
  let bytes = 0;
  while (n < queue.length && n < MAX_MESSAGES_PER_REQUEST && (n === 0 || bytes < MAX_BYTES_PER_REQUEST)) {
    bytes += approxBytes(queue[n] as Message);
    n++;
  }
  return n;
}

/** Rough encoded size of a message, for cutting batches (entry payloads dominate). */
function approxBytes(m: Message): number {
  if (m.type === 'AppendEntries') {
    let b = 64;
    for (const e of m.entries) b += e.data.length + 24;
    return b;
  }
  if (m.type === 'InstallSnapshot') return 128 + m.chunk.length;
  return 64;
}
