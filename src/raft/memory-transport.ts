/**
 * In-process `Transport` for tests: a `MemoryNetwork` hub connects nodes by id
 * and can cut links (`cut(1, 3)`, `isolate(2)`, `heal()`).
 *
 * Invariants: delivery is asynchronous (next macrotask, never inside `send`),
 * in order per link; messages on a cut link or to an unknown/closed node are
 * dropped silently, as a real network would. Messages are passed by reference
 * (the core treats them as immutable).
 */
import type { InboundHandler, Transport } from './transport.ts';
import type { Message, NodeId } from './types.ts';

export class MemoryNetwork {
  private readonly handlers = new Map<NodeId, InboundHandler>();
  private readonly meta = new Map<NodeId, string>();
  private readonly cutLinks = new Set<string>();
  /** Messages delivered, for tests that assert traffic happened. */
  delivered = 0;

  /** A transport for node `id`; `senderMeta` rides along with every batch it sends. */
  transport(id: NodeId, senderMeta = ''): Transport {
    this.meta.set(id, senderMeta);
    return new MemoryTransport(this, id);
  }

  /** Drops traffic both ways between a and b. */
  cut(a: NodeId, b: NodeId): void {
    this.cutLinks.add(`${a}>${b}`);
    this.cutLinks.add(`${b}>${a}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.handlers.keys()) if (other !== id) this.cut(id, other);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  /** @internal */
  attach(id: NodeId, handler: InboundHandler | undefined): void {
    if (handler === undefined) this.handlers.delete(id);
    else this.handlers.set(id, handler);
  }

  /** @internal */
  deliver(from: NodeId, messages: readonly Message[]): void {
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      if (this.cutLinks.has(`${from}>${m.to}`)) continue;
      const list = byPeer.get(m.to) ?? [];
      list.push(m);
      byPeer.set(m.to, list);
    }
    const senderMeta = this.meta.get(from) ?? '';
    for (const [to, list] of byPeer) {
      setImmediate(() => {
        const h = this.handlers.get(to);
        if (h === undefined || this.cutLinks.has(`${from}>${to}`)) return;
        this.delivered += list.length;
        h({ from, messages: list, senderMeta });
      });
    }
  }
}

class MemoryTransport implements Transport {
  private readonly net: MemoryNetwork;
  private readonly id: NodeId;
  private open = false;

  constructor(net: MemoryNetwork, id: NodeId) {
    this.net = net;
    this.id = id;
  }

  async start(handler: InboundHandler): Promise<void> {
    this.open = true;
    this.net.attach(this.id, handler);
  }

  send(messages: readonly Message[]): void {
    if (this.open && messages.length > 0) this.net.deliver(this.id, messages);
  }

  setPeer(): void {
    // Every node on the network is reachable by id.
  }

  removePeer(): void {}

  async close(): Promise<void> {
    this.open = false;
    this.net.attach(this.id, undefined);
  }
}
