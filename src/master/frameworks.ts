/**
 * The master's framework records: who is subscribed, on which stream, with
 * which roles, and when a disconnected framework's failover timeout expires.
 * Pure bookkeeping (no I/O, no clock reads: times are passed in).
 *
 * States of a framework record:
 *
 *   (none) --SUBSCRIBE--> connected --stream closed--> disconnected --failover_timeout--> removed
 *                            ^                              |
 *                            +------- SUBSCRIBE (same id) --+
 *   (none) --agent reports a task of it--> recovered --SUBSCRIBE--> connected
 *                                               |
 *                                               +--max(failover_timeout, re-registration window)--> removed
 *
 * Invariants: a connected framework has exactly one current `streamId`; a
 * removed framework's id is remembered (bounded) so late status updates for it
 * are acknowledged on its behalf rather than retried forever by the agent.
 */
import type { FrameworkInfo } from './wire.ts';

/** How many removed framework ids are remembered (for auto-acknowledging late updates). */
export const MAX_COMPLETED_FRAMEWORKS = 1000;

export type FrameworkState = 'connected' | 'disconnected' | 'recovered';

export interface FrameworkRecord {
  readonly id: string;
  info: FrameworkInfo;
  roles: string[];
  state: FrameworkState;
  streamId: string | undefined;
  partitionAware: boolean;
  registeredAtMs: number;
  reregisteredAtMs: number | undefined;
  /** Set while disconnected: when the framework is removed if it has not re-subscribed. */
  failoverDeadlineMs: number | undefined;
  suppressedRoles: Set<string>;
}

export function frameworkRoles(info: FrameworkInfo): string[] {
  if (info.roles !== undefined && info.roles.length > 0) return [...new Set(info.roles)];
  return [info.role ?? '*'];
}

export function hasCapability(info: FrameworkInfo, type: string): boolean {
  return (info.capabilities ?? []).some((c) => c.type === type);
}

export function describeFramework(f: FrameworkRecord): string {
  return `framework ${f.id} '${f.info.name}' ${f.state} roles=${f.roles.join(',')}${f.partitionAware ? ' partition-aware' : ''}`;
}

export class FrameworkRegistry {
  private readonly byId = new Map<string, FrameworkRecord>();
  private readonly completed: string[] = [];
  private readonly completedSet = new Set<string>();

  get(id: string): FrameworkRecord | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<FrameworkRecord> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  isCompleted(id: string): boolean {
    return this.completedSet.has(id);
  }

  completedIds(): readonly string[] {
    return this.completed;
  }

  /** A new FrameworkInfo for a framework in place (UPDATE_FRAMEWORK, a failover's SUBSCRIBE): its state and times are untouched. */
  updateInfo(fw: FrameworkRecord, info: FrameworkInfo): void {
    fw.info = { ...info, id: { value: fw.id } };
    fw.roles = frameworkRoles(fw.info);
    fw.partitionAware = hasCapability(fw.info, 'PARTITION_AWARE');
  }

  /** Creates or replaces the record for `info.id` (which must be set). */
  upsert(id: string, info: FrameworkInfo, state: FrameworkState, nowMs: number): FrameworkRecord {
    const existing = this.byId.get(id);
    if (existing !== undefined) {
      this.updateInfo(existing, info);
      existing.state = state;
      if (state === 'connected') existing.reregisteredAtMs = nowMs;
      return existing;
    }
    const withId: FrameworkInfo = { ...info, id: { value: id } };
    const rec: FrameworkRecord = {
      id,
      info: withId,
      roles: frameworkRoles(withId),
      state,
      streamId: undefined,
      partitionAware: hasCapability(withId, 'PARTITION_AWARE'),
      registeredAtMs: nowMs,
      reregisteredAtMs: undefined,
      failoverDeadlineMs: undefined,
      suppressedRoles: new Set(),
    };
    this.byId.set(id, rec);
    this.completedSet.delete(id);
    return rec;
  }

  remove(id: string): void {
    if (!this.byId.delete(id)) return;
    this.completed.push(id);
    this.completedSet.add(id);
    while (this.completed.length > MAX_COMPLETED_FRAMEWORKS) {
      const old = this.completed.shift();
      if (old !== undefined) this.completedSet.delete(old);
    }
  }

  /** Disconnected or recovered frameworks whose failover deadline is at or before `nowMs`. */
  expired(nowMs: number): FrameworkRecord[] {
    const out: FrameworkRecord[] = [];
    for (const f of this.byId.values()) {
      if (f.state !== 'connected' && f.failoverDeadlineMs !== undefined && f.failoverDeadlineMs <= nowMs) out.push(f);
    }
    return out;
  }
}
