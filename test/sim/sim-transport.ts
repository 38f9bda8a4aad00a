/**
 * A `Transport` for one incarnation of a simulated server over `SimNetwork`:
 * every message goes through the network's faults (drop, delay, duplicate,
 * partitions). `kill()` (the process died) stops sending and receiving for good.
 */
import type { InboundHandler, PeerLostHandler, Transport } from '../../src/raft/transport.ts';
import type { Message, NodeId } from '../../src/raft/types.ts';
import type { SimNetwork } from './sim-network.ts';

export class SimTransport implements Transport {
  private handler: InboundHandler | undefined;
  private onPeerLost: PeerLostHandler | undefined;
  private alive = true;

  constructor(
    private readonly id: NodeId,
    private readonly net: SimNetwork,
  ) {}

  async start(handler: InboundHandler, onPeerLost?: PeerLostHandler): Promise<void> {
    this.handler = handler;
    this.onPeerLost = onPeerLost;
  }

  /** The connection from `peer` closed (the simulator calls this when `peer` crashes). */
  peerLost(peer: NodeId): void {
    if (this.alive) this.onPeerLost?.(peer);
  }

  send(messages: readonly Message[]): void {
    if (!this.alive) return;
    for (const m of messages) this.net.send(m);
  }

  /** Called by the network when a message for this node arrives. */
  receive(m: Message): void {
    if (this.alive && this.handler !== undefined) this.handler({ from: m.from, messages: [m], senderMeta: '' });
  }

  setPeer(): void {
    // The simulated network reaches every node by id.
  }

  removePeer(): void {}

  async close(): Promise<void> {
    this.kill();
  }

  kill(): void {
    this.alive = false;
    this.handler = undefined;
    this.onPeerLost = undefined;
  }

  get nodeId(): NodeId {
    return this.id;
  }
}
