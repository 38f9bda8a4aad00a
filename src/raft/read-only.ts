/**
 * The leader's queue of ReadIndex requests waiting for a heartbeat quorum
 * (Raft thesis §6.4). Each request records the commit index at arrival; once a
 * majority acknowledges a heartbeat carrying its ctx, it and every request
 * queued before it are released (leadership was confirmed after they arrived).
 *
 * Invariant: `queue` is in arrival order and bounded by the caller's maxPendingReads.
 * Pure: no I/O.
 */
import type { NodeId } from './types.ts';

export interface PendingRead {
  readonly ctx: Uint8Array;
  readonly key: string;
  readonly index: number;
  /** Who asked: the leader itself or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export function ctxKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

export class ReadOnlyQueue {
  private queue: PendingRead[] = [];
  private byKey = new Map<string, PendingRead>();

  get size(): number {
    return this.queue.length;
  }

  has(ctx: Uint8Array): boolean {
    return this.byKey.has(ctxKey(ctx));
  }

  add(ctx: Uint8Array, index: number, from: NodeId, self: NodeId): void {
    const key = ctxKey(ctx);
    if (this.byKey.has(key)) return;
    const read: PendingRead = { ctx, key, index, from, acks: new Set([self]) };
    this.queue.push(read);
    this.byKey.set(key, read);
  }

  /** Records an ack; returns the acks so far for ctx (undefined if unknown). */
  recvAck(from: NodeId, ctx: Uint8Array): ReadonlySet<NodeId> | undefined {
    const read = this.byKey.get(ctxKey(ctx));
    if (read === undefined) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /** Removes and returns ctx's request and every request before it. */
  advance(ctx: Uint8Array): PendingRead[] {
    const key = ctxKey(ctx);
    const at = this.queue.findIndex((r) => r.key === key);
    if (at < 0) return [];
    const released = this.queue.splice(0, at + 1);
    for (const r of released) this.byKey.delete(r.key);
    return released;
  }

  /** Context of the most recent request (heartbeats carry it). */
  lastCtx(): Uint8Array | undefined {
    return this.queue.length === 0 ? undefined : this.queue[this.queue.length - 1].ctx;
  }

  clear(): void {
    this.queue = [];
    this.byKey.clear();
  }
}
