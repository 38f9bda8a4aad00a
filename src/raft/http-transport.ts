/**
 * Raft over HTTP/1.1: `POST /raft/v1/messages` with a protobuf
 * `cygnet.raft.MessageBatch` body (`application/x-protobuf`), answered 204.
 *
 * Sending: one `PeerSender` per peer with an undici keep-alive `Pool`, a
 * bounded queue (drop oldest on overflow: Raft re-sends what matters), at most
 * a few pipelined requests in flight per peer (one connection keeps per-link order), each carrying everything
 * queued meanwhile (up to MAX_IN_FLIGHT_PER_PEER pipelined on one connection),
 * and exponential backoff after a failure. `send()` only
 * enqueues: it never blocks the node loop and never throws.
 *
 * Receiving: validates method, media type, size and every message (decode
 * errors → 400 with the field path; a message addressed to another node → 400)
 * before handing the batch to the node. A malformed peer cannot crash us.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { Clock, TimerHandle } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import { CygnetError, describeError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { componentLogger } from '../common/log.ts';
import { decodeBatch, encodeBatch } from './codec.ts';
import type { InboundHandler, Transport } from './transport.ts';
import type { Message, NodeId } from './types.ts';

export const RAFT_MESSAGES_PATH = '/raft/v1/messages';
export const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';

/** Per-peer queue bound: a few election timeouts of traffic; beyond it the oldest is stale anyway. */
export const MAX_QUEUED_MESSAGES_PER_PEER = 4096;
/** Messages per request: keeps one request well under the body limit in practice. */
export const MAX_MESSAGES_PER_REQUEST = 512;
/** Payload bytes per request (approximate): a batch is cut here so it always fits MAX_BODY_BYTES. */
export const MAX_BYTES_PER_REQUEST = 16 * 1024 * 1024;
/** Inbound body limit: a sender cuts batches at MAX_BYTES_PER_REQUEST; one message (≤ the core's maxBytesPerMsg / snapshot chunk) fits easily. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/**
 * Requests in flight per peer, pipelined on ONE keep-alive connection so the
 * peer still receives batches in send order; a heartbeat in flight then does
 * not delay the next append by a round trip.
 */
export const MAX_IN_FLIGHT_PER_PEER = 4;
/** Backoff after a failed send: doubles from min to max, reset by a success. */
export const SEND_BACKOFF_MIN_MS = 20;
export const SEND_BACKOFF_MAX_MS = 1000;
/** A peer that accepts the connection but never answers must not hold the queue forever. */
export const SEND_TIMEOUT_MS = 5000;
export const CONNECT_TIMEOUT_MS = 1000;

export interface HttpTransportOptions {
  readonly id: NodeId;
  /** host:port to listen on (port 0 = ephemeral; see `address` after start). */
  readonly listen: string;
  /** Peer id → host:port. */
  readonly peers?: ReadonlyMap<NodeId, string>;
  /** Opaque metadata sent with every batch (e.g. our client API address). */
  readonly senderMeta?: string;
  readonly clock?: Clock;
  readonly log?: Logger;
}

export class HttpTransport implements Transport {
  private readonly id: NodeId;
  private readonly listen: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private senderMeta: string;
  private readonly senders = new Map<NodeId, PeerSender>();
  private server: Server | undefined;
  private handler: InboundHandler | undefined;
  private closed = false;

  constructor(opts: HttpTransportOptions) {
    this.id = opts.id;
    this.listen = opts.listen;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? componentLogger('raft-http', { id: opts.id });
    this.senderMeta = opts.senderMeta ?? '';
    for (const [peer, addr] of opts.peers ?? []) this.setPeer(peer, addr);
  }

  /** host:port actually listened on (after start). */
  get address(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (a === null || a === undefined) throw new Error('HttpTransport not started');
    return `${a.address}:${a.port}`;
  }

  setSenderMeta(meta: string): void {
    this.senderMeta = meta;
  }

  async start(handler: InboundHandler): Promise<void> {
    this.handler = handler;
    const { host, port } = splitHostPort(this.listen);
    const server = createServer({ noDelay: true }, (req, res) => this.handleRequest(req, res));
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      const s = this.senders.get(m.to);
      if (s === undefined) {
        this.log.debug({ to: m.to, type: m.type }, 'dropping message to unknown peer');
        continue;
      }
      s.enqueue(m);
    }
  }

  setPeer(id: NodeId, address: string): void {
    if (id === this.id) return;
    const existing = this.senders.get(id);
    if (existing !== undefined && existing.address === address) return;
    existing?.close();
    this.senders.set(id, new PeerSender(this.id, id, address, () => this.senderMeta, this.clock, this.log));
  }

  removePeer(id: NodeId): void {
    this.senders.get(id)?.close();
    this.senders.delete(id);
  }

  /** Per-peer counters, for status pages and benchmarks. */
  peerStats(): Record<number, { sent: number; failed: number; dropped: number; queued: number }> {
    const out: Record<number, { sent: number; failed: number; dropped: number; queued: number }> = {};
    for (const [id, s] of this.senders) out[id] = { sent: s.sent, failed: s.failed, dropped: s.dropped, queued: s.queued };
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.senders.values()) s.close();
    const server = this.server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  private handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, text: string) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    };
    if (req.url !== RAFT_MESSAGES_PATH) return reply(404, `no such path ${req.url ?? ''}; raft peers POST ${RAFT_MESSAGES_PATH}\n`);
    if (req.method !== 'POST') return reply(405, `${RAFT_MESSAGES_PATH} accepts POST only\n`);
    const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (ct !== PROTOBUF_MEDIA_TYPE) return reply(415, `expected Content-Type ${PROTOBUF_MEDIA_TYPE}, got ${ct === '' ? 'none' : ct}\n`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reply(413, `raft batch larger than ${MAX_BODY_BYTES} bytes\n`);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      try {
        const batch = decodeBatch(Buffer.concat(chunks));
        batch.messages.forEach((m, i) => {
          if (m.to !== this.id) throw new CygnetError('CYG_VALIDATION', `messages[${i}].to: expected this node ${this.id}, got ${m.to}`);
        });
        if (this.closed || this.handler === undefined) return reply(503, 'raft transport closed\n');
        this.handler(batch);
        res.writeHead(204).end();
      } catch (err) {
        const status = err instanceof CygnetError ? err.httpStatus : 500;
        this.log.warn({ err: describeError(err) }, 'rejected inbound raft batch');
        reply(status, `${describeError(err)}\n`);
      }
    });
  }
}

/** Queue + a bounded window of pipelined requests + backoff for one peer. */
class PeerSender {
  readonly address: string;
  private readonly from: NodeId;
  private readonly to: NodeId;
  private readonly meta: () => string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly pool: Pool;
  private queue: Message[] = [];
  private inFlight = 0;
  private backoffMs = 0;
  private backoffTimer: TimerHandle | undefined;
  private closed = false;
  sent = 0;
  failed = 0;
  dropped = 0;

  constructor(from: NodeId, to: NodeId, address: string, meta: () => string, clock: Clock, log: Logger) {
    this.from = from;
    this.to = to;
    this.address = address;
    this.meta = meta;
    this.clock = clock;
    this.log = log;
    this.pool = new Pool(`http://${address}`, {
      connections: 1,
      pipelining: MAX_IN_FLIGHT_PER_PEER,
      keepAliveTimeout: 30_000,
      headersTimeout: SEND_TIMEOUT_MS,
      bodyTimeout: SEND_TIMEOUT_MS,
      connect: { timeout: CONNECT_TIMEOUT_MS },
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  enqueue(m: Message): void {
    if (this.closed) return;
    this.queue.push(m);
    if (this.queue.length > MAX_QUEUED_MESSAGES_PER_PEER) {
      const over = this.queue.length - MAX_QUEUED_MESSAGES_PER_PEER;
      this.queue.splice(0, over);
      this.dropped += over;
    }
    this.maybeSend();
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.backoffTimer?.cancel();
    void this.pool.destroy().catch(() => undefined);
  }

  private maybeSend(): void {
    if (this.closed || this.inFlight >= MAX_IN_FLIGHT_PER_PEER || this.backoffTimer !== undefined || this.queue.length === 0) return;
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < MAX_MESSAGES_PER_REQUEST && (n === 0 || bytes < MAX_BYTES_PER_REQUEST)) {
      bytes += approxBytes(this.queue[n] as Message);
      n++;
    }
    const batch = this.queue.splice(0, n);
    this.inFlight++;
    void this.post(batch).then((ok) => {
      this.inFlight--;
      if (ok) {
        this.sent += batch.length;
        this.backoffMs = 0;
        this.maybeSend();
        return;
      }
      // Dropped: Raft re-sends from its own state. Wait before trying the peer again.
      this.failed += batch.length;
      this.backoffMs = Math.min(SEND_BACKOFF_MAX_MS, this.backoffMs === 0 ? SEND_BACKOFF_MIN_MS : this.backoffMs * 2);
      if (this.backoffTimer !== undefined) return;
      this.backoffTimer = this.clock.setTimer(this.backoffMs, () => {
        this.backoffTimer = undefined;
        this.maybeSend();
      });
    });
  }

  private async post(batch: Message[]): Promise<boolean> {
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: RAFT_MESSAGES_PATH,
        headers: { 'content-type': PROTOBUF_MEDIA_TYPE },
        body: encodeBatch(this.from, batch, this.meta()),
      });
      const text = res.statusCode === 204 ? '' : await res.body.text();
      if (res.statusCode === 204) {
        await res.body.dump();
        return true;
      }
      this.log.warn({ to: this.to, status: res.statusCode, body: text.slice(0, 200) }, 'peer refused raft batch');
      return false;
    } catch (err) {
      if (!this.closed) this.log.debug({ to: this.to, err: describeError(err) }, 'raft send failed');
      return false;
    }
  }
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

export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CygnetError('CYG_CONFIG', `address ${JSON.stringify(addr)}: expected host:port`);
  }
  return { host: addr.slice(0, i), port };
}
