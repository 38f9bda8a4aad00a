/**
 * The simulated network: every message is dropped, delayed (hence reordered)
 * or duplicated according to the current fault settings, and directed links
 * can be cut (one-way partitions). All randomness comes from the seed.
 */
import type { Random } from '../../src/common/random.ts';
import type { Message, NodeId } from '../../src/raft/types.ts';
import type { EventQueue } from './event-queue.ts';

export interface NetworkFaults {
  dropRate: number;
  dupRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const calmNetwork: NetworkFaults = { dropRate: 0, dupRate: 0, minDelayMs: 1, maxDelayMs: 4 };

export class SimNetwork {
  faults: NetworkFaults = { ...calmNetwork };
  /** Directed link -> number of active faults cutting it (overlapping faults heal independently). */
  private readonly blocked = new Map<string, number>();
  sent = 0;
  delivered = 0;

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: Random,
    private readonly deliver: (m: Message) => void,
  ) {}

  send(m: Message): void {
    this.sent++;
    if (this.isBlocked(m.from, m.to) || this.rng.next() < this.faults.dropRate) return;
    const copies = this.rng.next() < this.faults.dupRate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = this.faults.minDelayMs + this.rng.next() * (this.faults.maxDelayMs - this.faults.minDelayMs);
      this.queue.after(delay, () => {
        // A partition that starts while the message is in flight also loses it.
        if (this.isBlocked(m.from, m.to)) return;
        this.delivered++;
        this.deliver(m);
      });
    }
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /**
   * Cuts side A from side B (only A -> B when oneWay); returns a function that heals
   * exactly these cuts.
   */
  partition(sideA: readonly NodeId[], sideB: readonly NodeId[], oneWay: boolean): () => void {
    const links: string[] = [];
    for (const a of sideA) {
      for (const b of sideB) {
        links.push(`${a}>${b}`);
        if (!oneWay) links.push(`${b}>${a}`);
      }
    }
    for (const l of links) this.blocked.set(l, (this.blocked.get(l) ?? 0) + 1);
    let healed = false;
    return () => {
      if (healed) return;
      healed = true;
      for (const l of links) {
        const n = (this.blocked.get(l) ?? 0) - 1;
        if (n <= 0) this.blocked.delete(l);
        else this.blocked.set(l, n);
      }
    };
  }

  /** Heals every cut. */
  heal(): void {
    this.blocked.clear();
  }

  describe(): string {
    return `drop=${this.faults.dropRate.toFixed(2)} dup=${this.faults.dupRate.toFixed(2)} delay=${this.faults.minDelayMs}-${this.faults.maxDelayMs.toFixed(0)}ms cuts=[${[...this.blocked.keys()].sort().join(' ')}]`;
  }
}
