/**
 * Outstanding offers: resources the allocator set aside for one framework on
 * one agent, until accepted, declined, rescinded or timed out. Pure.
 * Invariant: an offer id is in the book at most once and is never reused; an
 * offer leaves the book exactly once (its resources then go back to the
 * allocator or into launched tasks, never both). The per-agent and
 * per-framework index sets are kept while empty (each allocation cycle would
 * otherwise re-create them all) and dropped with forgetAgent/forgetFramework.
 */
import type { Resource } from './wire.ts';

export interface OfferRecord {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  /** As offered: allocation_info.role set. */
  readonly resources: Resource[];
  readonly createdAtMs: number;
}

export function describeOffer(o: OfferRecord): string {
  return `offer ${o.id} fw=${o.frameworkId} agent=${o.agentId} role=${o.role}`;
}

export class OfferBook {
  private readonly byId = new Map<string, OfferRecord>();
  /** Indexes so agent loss / framework failover do not scan every offer. */
  private readonly byAgent = new Map<string, Set<OfferRecord>>();
  private readonly byFramework = new Map<string, Set<OfferRecord>>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): OfferRecord | undefined {
    return this.byId.get(id);
  }

  add(o: OfferRecord): void {
    this.byId.set(o.id, o);
    index(this.byAgent, o.agentId, o);
    index(this.byFramework, o.frameworkId, o);
  }

  /** Removes and returns the offer (undefined when not outstanding). */
  take(id: string): OfferRecord | undefined {
    const o = this.byId.get(id);
    if (o === undefined) return undefined;
    this.byId.delete(id);
    unindex(this.byAgent, o.agentId, o);
    unindex(this.byFramework, o.frameworkId, o);
    return o;
  }

  all(): IterableIterator<OfferRecord> {
    return this.byId.values();
  }

  ofFramework(frameworkId: string): OfferRecord[] {
    return [...(this.byFramework.get(frameworkId) ?? [])];
  }

  onAgent(agentId: string): OfferRecord[] {
    return [...(this.byAgent.get(agentId) ?? [])];
  }

  /** Drops the (empty) index of a removed agent; its offers must have been taken. */
  forgetAgent(agentId: string): void {
    if (this.byAgent.get(agentId)?.size === 0) this.byAgent.delete(agentId);
  }

  /** Drops the (empty) index of a removed framework; its offers must have been taken. */
  forgetFramework(frameworkId: string): void {
    if (this.byFramework.get(frameworkId)?.size === 0) this.byFramework.delete(frameworkId);
  }

  olderThan(cutoffMs: number): OfferRecord[] {
    return [...this.byId.values()].filter((o) => o.createdAtMs <= cutoffMs);
  }
}

function index(m: Map<string, Set<OfferRecord>>, key: string, o: OfferRecord): void {
  let set = m.get(key);
  if (set === undefined) {
    set = new Set();
    m.set(key, set);
  }
  set.add(o);
}

function unindex(m: Map<string, Set<OfferRecord>>, key: string, o: OfferRecord): void {
  m.get(key)?.delete(o);
}
