/**
 * Raft over HTTP/1.1 on one listening port.
 *
 * Sending: one `PeerStream` per peer (`peer-stream.ts`) — a long-lived
 * connection upgraded from `GET /raft/v1/stream` carrying length-prefixed
 * protobuf `MessageBatch` frames one way, with a bounded queue (drop oldest on
 * overflow: Raft re-sends what matters) and backoff after a failed connect.
 * `send()` only enqueues and then flushes each touched peer once: it never
 * blocks the node loop, never throws, and a Ready's messages to one peer share
 * one frame.
 *
 * Receiving: the stream upgrade, and `POST /raft/v1/messages` with one protobuf
 * `cygnet.raft.MessageBatch` body (`application/x-protobuf`, answered 204) for
 * simple clients and tests. Both validate size and every message (decode
 * errors → 400 / stream dropped, with the field path; a message addressed to
 * another node likewise) before handing the batch to the node. A malformed
 * peer cannot crash us; upgraded sockets are tracked and destroyed on close,
 * and as soon as their sender ends its side (a partial frame is dropped).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import { CygnetError, describeError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { componentLogger } from '../common/log.ts';
import { decodeBatch, type DecodedBatch } from './codec.ts';
import { MAX_BODY_BYTES, PeerStream, RAFT_STREAM_PATH, RAFT_STREAM_PROTOCOL } from './peer-stream.ts';
import { FrameDecoder } from './stream-frames.ts';
import type { InboundHandler, PeerLostHandler, Transport } from './transport.ts';
import type { Message, NodeId } from './types.ts';

export const RAFT_MESSAGES_PATH = '/raft/v1/messages';
export const PROTOBUF_MEDIA_TYPE = 'application/x-protobuf';
export { MAX_BODY_BYTES, MAX_BYTES_PER_REQUEST, MAX_MESSAGES_PER_REQUEST, MAX_QUEUED_MESSAGES_PER_PEER, RAFT_STREAM_PATH, RAFT_STREAM_PROTOCOL } from './peer-stream.ts';

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
  private readonly senders = new Map<NodeId, PeerStream>();
  private readonly streams = new Set<Socket>();
  private server: Server | undefined;
  private handler: InboundHandler | undefined;
  private onPeerLost: PeerLostHandler | undefined;
  /** Open inbound streams per sender (known from its first frame): a peer is lost when its last one closes. */
  private readonly inboundFrom = new Map<NodeId, Set<Socket>>();
  /** When each peer was last heard from (clock ms), on any inbound stream or POST. */
  private readonly lastHeardMs = new Map<NodeId, number>();
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

  async start(handler: InboundHandler, onPeerLost?: PeerLostHandler): Promise<void> {
    this.handler = handler;
    this.onPeerLost = onPeerLost;
    const { host, port } = splitHostPort(this.listen);
    const server = createServer({ noDelay: true }, (req, res) => this.handleRequest(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.handleUpgrade(req, socket, head));
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
    // Queue everything first, then start at most one request per peer: a Ready's
    // heartbeat and append to the same peer travel in one batch, not two requests.
    const touched = new Map<PeerStream, NodeId>();
    for (const m of messages) {
      const s = this.senders.get(m.to);
      if (s === undefined) {
        this.log.debug({ to: m.to, type: m.type }, 'dropping message to unknown peer');
        continue;
      }
      s.enqueue(m);
      touched.set(s, m.to);
    }
    for (const [s, to] of touched) {
      s.flush();
      // Both directions of a silent link are dropped: whichever of them is stuck (a partition's
      // retransmissions back off to tens of seconds), new connections get through once it heals.
      if (s.dropIfSilent(this.lastHeardMs.get(to))) for (const socket of this.inboundFrom.get(to) ?? []) socket.destroy();
    }
  }

  setPeer(id: NodeId, address: string): void {
    if (id === this.id) return;
    const existing = this.senders.get(id);
    if (existing !== undefined && existing.address === address) return;
    existing?.close();
    this.senders.set(id, new PeerStream(this.id, id, address, splitHostPort(address), () => this.senderMeta, this.clock, this.log));
  }

  removePeer(id: NodeId): void {
    this.senders.get(id)?.close();
    this.senders.delete(id);
  }

  /** Inbound peer streams currently open (for tests and status pages). */
  get inboundStreams(): number {
    return this.streams.size;
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
    for (const sock of this.streams) sock.destroy();
    this.streams.clear();
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
      let batch: DecodedBatch;
      try {
        batch = this.checkBatch(decodeBatch(Buffer.concat(chunks)));
      } catch (err) {
        const status = err instanceof CygnetError ? err.httpStatus : 400;
        this.log.warn({ err: describeError(err) }, 'rejected inbound raft batch');
        return reply(status, `${describeError(err)}\n`);
      }
      if (this.closed || this.handler === undefined) return reply(503, 'raft transport closed\n');
      this.lastHeardMs.set(batch.from, this.clock.nowMs());
      this.handler(batch);
      res.writeHead(204).end();
    });
  }

  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refuse = (status: string, text: string) => {
      socket.on('error', () => undefined);
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    };
    if (req.url !== RAFT_STREAM_PATH) return refuse('404 Not Found', `no such path ${req.url ?? ''}; raft peers upgrade ${RAFT_STREAM_PATH}\n`);
    if ((req.headers.upgrade ?? '').toLowerCase() !== RAFT_STREAM_PROTOCOL) return refuse('400 Bad Request', `expected Upgrade: ${RAFT_STREAM_PROTOCOL}\n`);
    if (this.closed || this.handler === undefined) return refuse('503 Service Unavailable', 'raft transport closed\n');
    socket.setNoDelay(true);
    socket.setTimeout(0);
    socket.setKeepAlive(true, 10_000);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${RAFT_STREAM_PROTOCOL}\r\n\r\n`);
    this.streams.add(socket);
    let sender: NodeId | undefined;
    socket.on('close', () => {
      this.streams.delete(socket);
      if (sender === undefined) return;
      const open = this.inboundFrom.get(sender);
      open?.delete(socket);
      if (open !== undefined && open.size > 0) return;
      this.inboundFrom.delete(sender);
      // A SIGKILLed peer's kernel closes this socket at once: the fastest sign that it died.
      if (!this.closed) this.onPeerLost?.(sender);
    });
    socket.on('error', () => undefined);
    const frames = new FrameDecoder(MAX_BODY_BYTES);
    // The HTTP server allows half-open sockets and its own 'end' handling is detached by the
    // upgrade: without this, a sender that ends its side (or dies: the kernel sends FIN) would
    // leave this socket — and any partial frame it held — open forever.
    socket.on('end', () => {
      if (frames.pending > 0) this.log.debug({ bytes: frames.pending }, 'raft stream ended inside a frame; dropping the partial frame');
      socket.destroy();
    });
    // Only a frame that does not decode (or is misaddressed) is the sender's fault and drops the
    // stream; whatever the handler throws is ours and is not caught here.
    const onData = (chunk: Buffer): void => {
      const { batches, bad } = this.decodeFrames(frames, chunk);
      for (const batch of batches) {
        if (this.closed || this.handler === undefined) return;
        if (sender === undefined) {
          sender = batch.from;
          const open = this.inboundFrom.get(sender) ?? new Set<Socket>();
          open.add(socket);
          this.inboundFrom.set(sender, open);
        }
        this.lastHeardMs.set(batch.from, this.clock.nowMs());
        this.handler(batch);
      }
      if (bad !== undefined) {
        this.log.warn({ err: describeError(bad) }, 'dropping raft stream after a bad frame');
        socket.destroy();
      }
    };
    socket.on('data', onData);
    if (head.length > 0) onData(head);
  }

  /** The whole frames in `chunk`, decoded, up to the first bad one (`bad`: why it was refused). */
  private decodeFrames(frames: FrameDecoder, chunk: Buffer): { batches: DecodedBatch[]; bad?: unknown } {
    const batches: DecodedBatch[] = [];
    try {
      for (const f of frames.push(chunk)) batches.push(this.checkBatch(decodeBatch(f)));
    } catch (err) {
      return { batches, bad: err };
    }
    return { batches };
  }

  /** Every message must be addressed to this node. */
  private checkBatch(batch: DecodedBatch): DecodedBatch {
    batch.messages.forEach((m, i) => {
      if (m.to !== this.id) throw new CygnetError('CYG_VALIDATION', `messages[${i}].to: expected this node ${this.id}, got ${m.to}`);
    });
    return batch;
  }
}

export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CygnetError('CYG_CONFIG', `address ${JSON.stringify(addr)}: expected host:port`);
  }
  return { host: addr.slice(0, i), port };
}
