/**
 * The master's agent records: identity, advertised resources, the current
 * event stream, liveness (last time heard from) and reachability.
 * Pure bookkeeping (times are passed in).
 *
 *   (none) --SUBSCRIBE--> active --no call/heartbeat for agentPingTimeoutMs--> unreachable
 *                           ^                                                     |
 *                           +---------------- SUBSCRIBE (same id) ----------------+
 *
 * Invariants: an agent id appears once (re-registration updates the record, it
 * never adds a second); an unreachable agent has no stream and no offers.
 */
import type { AgentInfo, Attribute, Resource } from './wire.ts';

/** Unreachable agents remembered for re-registration; beyond this the oldest is forgotten. */
export const MAX_UNREACHABLE_AGENTS = 10_000;

export type AgentState = 'active' | 'unreachable';

export interface AgentRecord {
  readonly id: string;
  info: AgentInfo;
  hostname: string;
  /** The agent's own HTTP port (for offer URLs). */
  port: number;
  /** The address the agent connected from. */
  ip: string;
  total: Resource[];
  attributes: Attribute[];
  state: AgentState;
  streamId: string | undefined;
  registeredAtMs: number;
  reregisteredAtMs: number | undefined;
  lastSeenMs: number;
  unreachableSinceMs: number | undefined;
}

export function describeAgent(a: AgentRecord): string {
  return `agent ${a.id} ${a.hostname}:${a.port} ${a.state}`;
}

export class AgentRegistry {
  private readonly byId = new Map<string, AgentRecord>();

  get(id: string): AgentRecord | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<AgentRecord> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  count(state: AgentState): number {
    let n = 0;
    for (const a of this.byId.values()) if (a.state === state) n++;
    return n;
  }

  put(rec: AgentRecord): void {
    this.byId.set(rec.id, rec);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  /** Active agents not heard from since `nowMs - timeoutMs`. */
  silentSince(nowMs: number, timeoutMs: number): AgentRecord[] {
    const out: AgentRecord[] = [];
    for (const a of this.byId.values()) if (a.state === 'active' && nowMs - a.lastSeenMs >= timeoutMs) out.push(a);
    return out;
  }

  /** Unreachable agents beyond MAX_UNREACHABLE_AGENTS, oldest first. */
  excessUnreachable(): AgentRecord[] {
    const unreachable = [...this.byId.values()].filter((a) => a.state === 'unreachable');
    if (unreachable.length <= MAX_UNREACHABLE_AGENTS) return [];
    unreachable.sort((a, b) => (a.unreachableSinceMs ?? 0) - (b.unreachableSinceMs ?? 0));
    return unreachable.slice(0, unreachable.length - MAX_UNREACHABLE_AGENTS);
  }
}
