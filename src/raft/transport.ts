/**
 * The shell's network seam: how `RaftNode` sends and receives Raft messages.
 * `HttpTransport` (protobuf over HTTP/1.1 keep-alive) is the real one;
 * `MemoryNetwork` connects nodes in one process for tests.
 *
 * Contract: `send` never blocks and never throws — delivery is best effort
 * (Raft retries); a dead or slow peer costs only dropped messages.
 */
import type { Message, NodeId } from './types.ts';

export interface InboundBatch {
  readonly from: NodeId;
  readonly messages: readonly Message[];
  /** Sender's opaque metadata ('' when none), e.g. its client API address. */
  readonly senderMeta: string;
}

export type InboundHandler = (batch: InboundBatch) => void;

/**
 * Called when the last open connection from `peer` closed (its process died, or the link
 * broke): a hint, never a guarantee — a live peer may reconnect a moment later.
 */
export type PeerLostHandler = (peer: NodeId) => void;

export interface Transport {
  /** Starts receiving; inbound batches go to `handler`; `onPeerLost`, if the transport can tell, hears of dropped peers. */
  start(handler: InboundHandler, onPeerLost?: PeerLostHandler): Promise<void>;
  /** Queues each message for its `to` peer. */
  send(messages: readonly Message[]): void;
  /** Adds or re-addresses a peer. */
  setPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  /** Stops sending and receiving; in-flight sends are abandoned. */
  close(): Promise<void>;
}
