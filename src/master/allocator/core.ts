/**
 * AllocatorCore: the stateful-but-pure weighted DRF allocator (Mesos'
 * HierarchicalDRFAllocator, one level of roles). It keeps agents' free pools,
 * what each framework holds per role, offer filters and suppression, and on
 * `allocate(nowMs)` computes an OfferPlan. The master (the I/O shell) turns
 * the plan into offers, and reports back with recoverResources() when an
 * offer is declined, accepted (the unused rest, possibly []), rescinded or
 * timed out, and when a task's resources are freed.
 *
 * One allocation cycle:
 *
 *   roles heap (weighted dominant share)      for each active agent, in random order:
 *     └─ frameworks heap per role (share)       pick the lowest-share role that has
 *                                               something ≥ minimum free here, then its
 *                                               lowest-share framework that is eligible
 *                                               (active, not suppressed for the role,
 *                                               no outstanding offer here, not filtered,
 *                                               GPU-capable if the agent has GPUs);
 *                                               offer it all unreserved + role-reserved
 *                                               free resources; its shares grow.
 *
 * Invariants: no I/O, no timers, no Date.now, no Math.random (randomness comes
 * in through `Random`). Shares are against the cluster total of all agents.
 * Offered resources count as allocated until recovered. A framework holds at
 * most one outstanding offer per agent.
 */
import type { Resource } from '../../protocol/resource-types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../common/errors.ts';
import { SeededRandom, type Random } from '../../common/random.ts';
import {
  addVectorInto,
  allocateTo,
  allocationRole,
  contains,
  identicalIgnoringAllocation,
  resourcesToString,
  stripAllocation,
  subtractVectorInto,
  toVector,
  unallocate,
  zeroVector,
  type ResourceVector,
} from '../../common/resources.ts';
import { AgentState } from './agent-state.ts';
import { dominantShare, isValidWeight } from './drf.ts';
import { ShareHeap, type ShareEntry } from './share-heap.ts';
import {
  DEFAULT_MIN_OFFER,
  DEFAULT_REFUSE_SECONDS,
  GPU_CAPABILITY,
  MAX_REFUSE_SECONDS,
  makePlan,
  type AllocationStats,
  type AllocatorAgent,
  type AllocatorFramework,
  type MinOffer,
  type OfferFilter,
  type OfferPlan,
  type PlannedOffer,
} from './types.ts';

export interface AllocatorOptions {
  minOffer?: MinOffer;
  roleWeights?: Record<string, number>;
  /** Shuffles agent order each cycle; default a fixed seed (pass the master's Random). */
  random?: Random;
}

/** Outcome of recoverResources: what went back to the free pool (free-pool form), and what was not held (ignored). */
export interface RecoverOutcome {
  recovered: Resource[];
  ignored: Resource[];
  filter?: OfferFilter;
}

export interface RoleShare {
  role: string;
  weight: number;
  share: number;
  frameworks: { id: string; share: number }[];
}

interface FrameworkState {
  id: string;
  roles: string[];
  suppressed: Set<string>;
  active: boolean;
  gpuCapable: boolean;
  /** agent id -> filters; null when the framework has none. */
  filters: Map<string, OfferFilter[]> | null;
}

interface FwEntry extends ShareEntry {
  fw: FrameworkState;
  alloc: ResourceVector;
}

interface RoleEntry extends ShareEntry {
  weight: number;
  alloc: ResourceVector;
  fws: ShareHeap<FwEntry>;
}

export class AllocatorCore {
  private readonly agents = new Map<string, AgentState>();
  /** Agents in insertion order (swap-remove); shuffled per cycle. */
  private readonly agentList: AgentState[] = [];
  private readonly frameworks = new Map<string, FrameworkState>();
  /** framework id -> role -> held vector (includes frameworks not yet (re)added). */
  private readonly usage = new Map<string, Map<string, ResourceVector>>();
  /** role -> held vector, over all frameworks. */
  private readonly roleUsage = new Map<string, ResourceVector>();
  private readonly clusterTotal: ResourceVector = zeroVector();
  /** No filter expires before this (lets expireFilters skip its scan). */
  private nextFilterExpiryMs = Number.POSITIVE_INFINITY;
  private roleWeights: Record<string, number> = {};
  private readonly minOffer: MinOffer;
  private readonly random: Random;
  /** Scratch for pickFramework (reused to avoid per-agent allocation). */
  private readonly skippedFws: FwEntry[] = [];

  constructor(options: AllocatorOptions = {}) {
    const min = options.minOffer ?? DEFAULT_MIN_OFFER;
    if (!(min.cpus >= 0) || !(min.memMb >= 0)) throw new ValidationError('minOffer', 'non-negative cpus and memMb', JSON.stringify(min));
    this.minOffer = { cpus: min.cpus, memMb: min.memMb };
    this.random = options.random ?? new SeededRandom(0x5eed);
    this.setRoleWeights(options.roleWeights ?? {});
  }

  // -------------------------------------------------------------------------
  // Configuration

  /** Replaces the role weights (missing roles weigh 1). */
  setRoleWeights(weights: Record<string, number>): void {
    for (const [role, w] of Object.entries(weights)) {
      if (!isValidWeight(w)) throw new ValidationError(`roleWeights.${role}`, 'a positive finite number', String(w));
    }
    this.roleWeights = { ...weights };
  }

  roleWeight(role: string): number {
    return this.roleWeights[role] ?? 1;
  }

  // -------------------------------------------------------------------------
  // Agents

  hasAgent(id: string): boolean {
    return this.agents.has(id);
  }

  /** Adds an agent, with what is already in use on it (re-registration). Throws ConflictError if known. */
  addAgent(spec: AllocatorAgent): void {
    if (this.agents.has(spec.id)) throw new ConflictError(`agent ${spec.id} is already known to the allocator`);
    const agent = new AgentState(spec.id, spec.hostname, spec.attributes ?? [], spec.active ?? true);
    for (const a of spec.allocations ?? []) {
      const rs = unallocate(a.resources);
      agent.addAllocation(a.frameworkId, a.role, rs);
      this.trackUsage(a.frameworkId, a.role, toVector(rs), +1);
      if (a.offered === true) agent.markOffered(a.frameworkId);
    }
    agent.setTotal(spec.total);
    addVectorInto(this.clusterTotal, agent.totalVector);
    agent.listIndex = this.agentList.length;
    this.agentList.push(agent);
    this.agents.set(agent.id, agent);
  }

  /** Changes an agent's total (free is recomputed), attributes, hostname or activity. */
  updateAgent(id: string, change: { total?: Resource[]; hostname?: string; attributes?: AllocatorAgent['attributes']; active?: boolean }): void {
    const agent = this.mustAgent(id);
    if (change.total !== undefined) {
      subtractVectorInto(this.clusterTotal, agent.totalVector);
      agent.setTotal(change.total);
      addVectorInto(this.clusterTotal, agent.totalVector);
    }
    if (change.hostname !== undefined) agent.hostname = change.hostname;
    if (change.attributes !== undefined) agent.attributes = change.attributes;
    if (change.active !== undefined) agent.active = change.active;
  }

  setAgentActive(id: string, active: boolean): void {
    this.mustAgent(id).active = active;
  }

  /** Forgets an agent and everything held on it. Unknown ids are ignored (idempotent). */
  removeAgent(id: string): void {
    const agent = this.agents.get(id);
    if (agent === undefined) return;
    for (const e of agent.allocations) {
      this.trackUsage(e.frameworkId, e.role, toVector(e.resources), -1);
    }
    subtractVectorInto(this.clusterTotal, agent.totalVector);
    const last = this.agentList.pop();
    if (last !== undefined && last !== agent) {
      this.agentList[agent.listIndex] = last;
      last.listIndex = agent.listIndex;
    }
    this.agents.delete(id);
    for (const fw of this.frameworks.values()) fw.filters?.delete(id);
  }

  // -------------------------------------------------------------------------
  // Frameworks

  hasFramework(id: string): boolean {
    return this.frameworks.has(id);
  }

  /** Adds a framework. Throws ValidationError without roles, ConflictError if known. */
  addFramework(spec: AllocatorFramework): void {
    if (this.frameworks.has(spec.id)) throw new ConflictError(`framework ${spec.id} is already known to the allocator`);
    checkRoles(spec.roles, `frameworks.${spec.id}.roles`);
    this.frameworks.set(spec.id, {
      id: spec.id,
      roles: [...new Set(spec.roles)],
      suppressed: new Set(spec.suppressedRoles ?? []),
      active: spec.active ?? true,
      gpuCapable: spec.capabilities?.includes(GPU_CAPABILITY) ?? false,
      filters: null,
    });
  }

  /** Changes roles (UPDATE_FRAMEWORK), capabilities, suppression or activity. */
  updateFramework(id: string, change: { roles?: string[]; capabilities?: string[]; suppressedRoles?: Iterable<string>; active?: boolean }): void {
    const fw = this.mustFramework(id);
    if (change.roles !== undefined) {
      checkRoles(change.roles, `frameworks.${id}.roles`);
      fw.roles = [...new Set(change.roles)];
    }
    if (change.capabilities !== undefined) fw.gpuCapable = change.capabilities.includes(GPU_CAPABILITY);
    if (change.suppressedRoles !== undefined) fw.suppressed = new Set(change.suppressedRoles);
    if (change.active !== undefined) fw.active = change.active;
  }

  /** Activates (connected) or deactivates (disconnected, failing over) a framework. */
  setFrameworkActive(id: string, active: boolean): void {
    this.mustFramework(id).active = active;
  }

  /** Forgets a framework (torn down): everything it held returns to the free pools. Idempotent. */
  removeFramework(id: string): void {
    // A scan of all agents: removal is rare, and no per-offer index is kept for it.
    for (const agent of this.agentList) {
      for (const e of agent.heldBy(id)) {
        const recovered = agent.release(id, e.role, e.resources);
        this.trackUsage(id, e.role, toVector(recovered), -1);
      }
      agent.clearOffered(id);
    }
    this.usage.delete(id);
    this.frameworks.delete(id);
  }

  /** SUPPRESS: no offers for these roles (default all of the framework's roles) until revive. */
  suppress(frameworkId: string, roles?: string[]): void {
    const fw = this.mustFramework(frameworkId);
    for (const r of roles ?? fw.roles) fw.suppressed.add(r);
  }

  /** REVIVE: unsuppresses these roles (default all) and clears the framework's filters. */
  revive(frameworkId: string, roles?: string[]): void {
    const fw = this.mustFramework(frameworkId);
    if (roles === undefined) fw.suppressed.clear();
    else for (const r of roles) fw.suppressed.delete(r);
    fw.filters = null;
  }

  // -------------------------------------------------------------------------
  // Recovering resources and filters

  /**
   * Returns resources held by a framework on an agent to the free pool: the
   * unused part of a declined/accepted/rescinded/expired offer (call it once per
   * closed offer, with [] if all was used), or a finished task's resources.
   * Clears the framework's outstanding-offer mark on the agent unless
   * `options.closesOffer` is false (pass false for a terminal task's
   * resources, so an offer still outstanding there keeps blocking a second
   * one). With `filter`, refuses these resources to the framework on this
   * agent for `refuseSeconds` (default 5; <= 0 means no filter). Per
   * allocation role, resources not all held are ignored and reported, never
   * double-counted.
   */
  recoverResources(
    frameworkId: string,
    agentId: string,
    resources: Resource[],
    filter?: { nowMs: number; refuseSeconds?: number },
    options: { closesOffer?: boolean } = {},
  ): RecoverOutcome {
    const agent = this.agents.get(agentId);
    if (agent === undefined) return { recovered: [], ignored: resources };
    if (options.closesOffer !== false) agent.clearOffered(frameworkId);
    const recovered: Resource[] = [];
    const ignored: Resource[] = [];
    for (const [role, rs] of this.groupByRole(agent, frameworkId, resources)) {
      const held = agent.entry(frameworkId, role);
      let got: Resource[];
      if (held !== undefined && identicalIgnoringAllocation(held.resources, rs)) {
        got = agent.releaseEntry(held); // fast path: a whole offer comes back
      } else {
        const clean = stripAllocation(rs);
        got = agent.release(frameworkId, role, clean);
        if (got.length === 0 && clean.length > 0) ignored.push(...rs);
      }
      this.trackUsage(frameworkId, role, toVector(got), -1);
      recovered.push(...got);
    }
    const outcome: RecoverOutcome = { recovered, ignored };
    if (filter !== undefined) {
      const f = this.addFilterFor(frameworkId, agentId, unallocate(resources), filter.nowMs, filter.refuseSeconds);
      if (f !== undefined) outcome.filter = f;
    }
    return outcome;
  }

  /** Installs a filter directly (e.g. from a snapshot). Filters for unknown frameworks are ignored. */
  addFilter(filter: OfferFilter): void {
    const fw = this.frameworks.get(filter.frameworkId);
    if (fw === undefined) return;
    fw.filters ??= new Map();
    const list = fw.filters.get(filter.agentId);
    const f: OfferFilter = { ...filter, resources: unallocate(filter.resources) };
    if (list === undefined) fw.filters.set(filter.agentId, [f]);
    else list.push(f);
    if (f.expiresAtMs < this.nextFilterExpiryMs) this.nextFilterExpiryMs = f.expiresAtMs;
  }

  /**
   * Drops filters that expired at or before nowMs; returns how many. Scans
   * only when the earliest expiry has passed (filters are also checked against
   * the time when used, so this is housekeeping, not correctness).
   */
  expireFilters(nowMs: number): number {
    if (nowMs < this.nextFilterExpiryMs) return 0;
    let n = 0;
    let next = Number.POSITIVE_INFINITY;
    for (const fw of this.frameworks.values()) {
      if (fw.filters === null) continue;
      for (const [agentId, list] of fw.filters) {
        let expired = 0;
        for (const f of list) {
          if (f.expiresAtMs <= nowMs) expired++;
          else if (f.expiresAtMs < next) next = f.expiresAtMs;
        }
        if (expired === 0) continue;
        n += expired;
        if (expired === list.length) fw.filters.delete(agentId);
        else fw.filters.set(agentId, list.filter((f) => f.expiresAtMs > nowMs));
      }
      if (fw.filters.size === 0) fw.filters = null;
    }
    this.nextFilterExpiryMs = next;
    return n;
  }

  // -------------------------------------------------------------------------
  // The allocation cycle

  /** Computes offers for everything free now; offered resources become allocated. */
  allocate(nowMs: number): OfferPlan {
    this.expireFilters(nowMs);
    const stats: AllocationStats = { agentsConsidered: 0, frameworksConsidered: 0, filteredPairs: 0, belowMinimum: 0 };
    const offers: PlannedOffer[] = [];
    const roles = this.buildSorters(stats);
    if (roles.size === 0) return makePlan(nowMs, offers, stats);
    const order = this.shuffledAgents();
    const skippedRoles: RoleEntry[] = [];
    for (const agent of order) {
      if (!agent.active) continue;
      if (agent.freeReserved === null && !agent.hasAnyFor('*')) continue;
      stats.agentsConsidered++;
      if (agent.freeReserved === null && !this.meetsMinimum(agent, '*')) {
        stats.belowMinimum++;
        continue;
      }
      this.allocateAgent(agent, roles, skippedRoles, offers, stats, nowMs);
    }
    return makePlan(nowMs, offers, stats);
  }

  private allocateAgent(
    agent: AgentState,
    roles: ShareHeap<RoleEntry>,
    skipped: RoleEntry[],
    offers: PlannedOffer[],
    stats: AllocationStats,
    nowMs: number,
  ): void {
    skipped.length = 0;
    for (;;) {
      let chosen: FwEntry | undefined;
      let role: RoleEntry | undefined;
      while ((role = roles.peek()) !== undefined) {
        if (this.meetsMinimum(agent, role.id)) {
          chosen = this.pickFramework(role, agent, stats, nowMs, this.skippedFws);
          if (chosen !== undefined) break;
        }
        skipped.push(role);
        roles.pop();
      }
      if (chosen === undefined || role === undefined) break;
      offers.push(this.makeOffer(agent, role, chosen));
      role.fws.fixRoot();
      for (const f of this.skippedFws) role.fws.push(f);
      this.skippedFws.length = 0;
      roles.fixRoot();
      if (agent.freeReserved === null) break; // nothing reserved left for another role
    }
    for (const r of skipped) roles.push(r);
  }

  /**
   * The lowest-share eligible framework of the role for this agent, left at
   * the heap's root. Ineligible entries passed over are popped into `skipped`;
   * the caller re-inserts them once the chosen entry's share is updated (so
   * they never sit above it). With no eligible framework they are re-inserted here.
   */
  private pickFramework(role: RoleEntry, agent: AgentState, stats: AllocationStats, nowMs: number, skipped: FwEntry[]): FwEntry | undefined {
    const heap = role.fws;
    let e: FwEntry | undefined;
    while ((e = heap.peek()) !== undefined) {
      if (this.eligible(e.fw, role.id, agent, stats, nowMs)) return e;
      skipped.push(e);
      heap.pop();
    }
    for (const s of skipped) heap.push(s);
    skipped.length = 0;
    return undefined;
  }

  private eligible(fw: FrameworkState, role: string, agent: AgentState, stats: AllocationStats, nowMs: number): boolean {
    if (agent.offeredTo !== null && agent.offeredTo.includes(fw.id)) return false;
    if (agent.hasGpus && !fw.gpuCapable) return false;
    if (fw.filters !== null) {
      const list = fw.filters.get(agent.id);
      if (list !== undefined) {
        const candidate = agent.freeFor(role);
        for (const f of list) {
          if (f.expiresAtMs > nowMs && contains(f.resources, candidate)) {
            stats.filteredPairs++;
            return false;
          }
        }
      }
    }
    return true;
  }

  private makeOffer(agent: AgentState, role: RoleEntry, entry: FwEntry): PlannedOffer {
    const fwId = entry.fw.id;
    // Without reservations, what is taken is exactly the unreserved free vector.
    const v = agent.freeReserved === null ? { ...agent.freeUnreserved } : undefined;
    const taken = agent.takeFor(fwId, role.id);
    const vector = v ?? toVector(taken);
    // entry.alloc and role.alloc are the live usage vectors of usage/roleUsage.
    addVectorInto(entry.alloc, vector);
    addVectorInto(role.alloc, vector);
    agent.markOffered(fwId);
    entry.share = dominantShare(entry.alloc, this.clusterTotal);
    role.share = dominantShare(role.alloc, this.clusterTotal) / role.weight;
    return { frameworkId: fwId, role: role.id, agentId: agent.id, hostname: agent.hostname, resources: allocateTo(taken, role.id) };
  }

  /** Mesos' min_allocatable_resources: either enough cpus or enough mem (and something free). */
  private meetsMinimum(agent: AgentState, role: string): boolean {
    if (!agent.hasAnyFor(role)) return false;
    return agent.availableCpus(role) >= this.minOffer.cpus || agent.availableMemMb(role) >= this.minOffer.memMb;
  }

  /** One heap of roles, each with a heap of its eligible frameworks; rebuilt each cycle (O(F log F)). */
  private buildSorters(stats: AllocationStats): ShareHeap<RoleEntry> {
    const byRole = new Map<string, FwEntry[]>();
    for (const fw of this.frameworks.values()) {
      if (!fw.active) continue;
      let any = false;
      for (const role of fw.roles) {
        if (fw.suppressed.has(role)) continue;
        any = true;
        let list = byRole.get(role);
        if (list === undefined) {
          list = [];
          byRole.set(role, list);
        }
        const alloc = this.usageVector(fw.id, role);
        list.push({ id: fw.id, fw, alloc, share: dominantShare(alloc, this.clusterTotal) });
      }
      if (any) stats.frameworksConsidered++;
    }
    const roles: RoleEntry[] = [];
    for (const [role, list] of byRole) {
      const weight = this.roleWeight(role);
      const alloc = this.roleUsageVector(role);
      roles.push({ id: role, weight, alloc, share: dominantShare(alloc, this.clusterTotal) / weight, fws: new ShareHeap(list) });
    }
    return new ShareHeap(roles);
  }

  private shuffledAgents(): AgentState[] {
    const order = this.agentList.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random.next() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  // -------------------------------------------------------------------------
  // Reads (for the master's state endpoint, metrics and tests)

  /** Shares per role (sorted as the allocator would serve them), frameworks within sorted too. */
  shares(): RoleShare[] {
    const roles = new Set<string>(this.roleUsage.keys());
    for (const fw of this.frameworks.values()) for (const r of fw.roles) roles.add(r);
    const out: RoleShare[] = [];
    for (const role of roles) {
      const weight = this.roleWeight(role);
      const frameworks: { id: string; share: number }[] = [];
      for (const fw of this.frameworks.values()) {
        if (fw.roles.includes(role) || this.usage.get(fw.id)?.has(role) === true) {
          frameworks.push({ id: fw.id, share: dominantShare(this.usageVector(fw.id, role), this.clusterTotal) });
        }
      }
      frameworks.sort((a, b) => a.share - b.share || (a.id < b.id ? -1 : 1));
      out.push({ role, weight, share: dominantShare(this.roleUsageVector(role), this.clusterTotal) / weight, frameworks });
    }
    out.sort((a, b) => a.share - b.share || (a.role < b.role ? -1 : 1));
    return out;
  }

  /** One line per role: `role web weight 2 share 0.250: fw1 0.300, fw2 0.200`. */
  describeShares(): string[] {
    return this.shares().map(
      (r) => `role ${r.role} weight ${r.weight} share ${r.share.toFixed(3)}: ${r.frameworks.map((f) => `${f.id} ${f.share.toFixed(3)}`).join(', ') || '-'}`,
    );
  }

  /** Dominant share of a framework in a role (0 when it holds nothing). */
  frameworkShare(frameworkId: string, role: string): number {
    return dominantShare(this.usageVector(frameworkId, role), this.clusterTotal);
  }

  /** Free resources of an agent (free-pool form), or undefined for an unknown agent. */
  agentFree(agentId: string): Resource[] | undefined {
    return this.agents.get(agentId)?.free;
  }

  /** What a framework holds on an agent per role (free-pool form). */
  allocatedOn(frameworkId: string, agentId: string): Map<string, Resource[]> {
    return new Map((this.agents.get(agentId)?.heldBy(frameworkId) ?? []).map((e) => [e.role, e.resources]));
  }

  /** Live filters (for the state endpoint and tests). */
  filters(): OfferFilter[] {
    const out: OfferFilter[] = [];
    for (const fw of this.frameworks.values()) for (const list of fw.filters?.values() ?? []) out.push(...list);
    return out;
  }

  get agentCount(): number {
    return this.agents.size;
  }

  get frameworkCount(): number {
    return this.frameworks.size;
  }

  totalVector(): ResourceVector {
    return { ...this.clusterTotal };
  }

  describeAgent(agentId: string): string {
    const a = this.mustAgent(agentId);
    return `agent ${a.id}${a.active ? '' : ' (inactive)'} free ${resourcesToString(a.free)}`;
  }

  // -------------------------------------------------------------------------
  // Helpers

  private addFilterFor(frameworkId: string, agentId: string, resources: Resource[], nowMs: number, refuseSeconds?: number): OfferFilter | undefined {
    let secs = refuseSeconds ?? DEFAULT_REFUSE_SECONDS;
    if (!Number.isFinite(secs) && secs > 0) secs = MAX_REFUSE_SECONDS;
    if (!(secs > 0)) return undefined; // 0, negative or NaN: no filter
    secs = Math.min(secs, MAX_REFUSE_SECONDS);
    if (!this.frameworks.has(frameworkId)) return undefined;
    const f: OfferFilter = { frameworkId, agentId, resources, expiresAtMs: nowMs + Math.round(secs * 1000) };
    this.addFilter(f);
    return f;
  }

  /** Splits resources by the role they were allocated to (allocation_info, else where the framework holds them). */
  private groupByRole(agent: AgentState, frameworkId: string, resources: Resource[]): Map<string, Resource[]> | [string, Resource[]][] {
    // Fast path: a whole offer, every resource tagged with the same role.
    const first = resources.length > 0 ? allocationRole(resources[0]) : undefined;
    if (first !== undefined && resources.every((r) => r.allocation_info?.role === first)) return [[first, resources]];
    const out = new Map<string, Resource[]>();
    const held = agent.heldBy(frameworkId);
    const fallback = held.length > 0 ? held.map((e) => e.role) : (this.frameworks.get(frameworkId)?.roles ?? ['*']);
    for (const r of resources) {
      let role = allocationRole(r);
      if (role === undefined) {
        const plain = unallocate([r]);
        role = held.find((e) => contains(e.resources, plain))?.role ?? fallback[0];
      }
      const list = out.get(role);
      if (list === undefined) out.set(role, [r]);
      else list.push(r);
    }
    return out;
  }

  private trackUsage(frameworkId: string, role: string, v: ResourceVector, sign: 1 | -1): void {
    const fv = this.usageVector(frameworkId, role);
    const rv = this.roleUsageVector(role);
    if (sign > 0) {
      addVectorInto(fv, v);
      addVectorInto(rv, v);
    } else {
      subtractVectorInto(fv, v);
      subtractVectorInto(rv, v);
    }
  }

  private usageVector(frameworkId: string, role: string): ResourceVector {
    let byRole = this.usage.get(frameworkId);
    if (byRole === undefined) {
      byRole = new Map();
      this.usage.set(frameworkId, byRole);
    }
    let v = byRole.get(role);
    if (v === undefined) {
      v = zeroVector();
      byRole.set(role, v);
    }
    return v;
  }

  private roleUsageVector(role: string): ResourceVector {
    let v = this.roleUsage.get(role);
    if (v === undefined) {
      v = zeroVector();
      this.roleUsage.set(role, v);
    }
    return v;
  }

  private mustAgent(id: string): AgentState {
    const a = this.agents.get(id);
    if (a === undefined) throw new NotFoundError(`agent ${id} is not known to the allocator`);
    return a;
  }

  private mustFramework(id: string): FrameworkState {
    const f = this.frameworks.get(id);
    if (f === undefined) throw new NotFoundError(`framework ${id} is not known to the allocator`);
    return f;
  }
}

function checkRoles(roles: unknown, path: string): void {
  if (!Array.isArray(roles) || roles.length === 0) throw new ValidationError(path, 'at least one role', JSON.stringify(roles));
  roles.forEach((r: unknown, i: number) => {
    if (typeof r !== 'string' || !/^(\*|[A-Za-z0-9_.\-/]+)$/.test(r)) {
      throw new ValidationError(`${path}[${i}]`, 'a role of letters, digits, _ . - / or *', JSON.stringify(r));
    }
  });
}
