/**
 * The allocator's vocabulary: what it is told about agents and frameworks, the
 * offer filters it keeps, and the OfferPlan it computes. Plain data plus
 * one-line `describe…()` printers used in logs and as test expectations.
 *
 * Invariants: every Resource here is in the Mesos JSON shape; resources in an
 * OfferPlan carry `allocation_info.role` (as Mesos' offers do); the allocator's
 * free pool never does. No I/O here.
 */
import type { Attribute, Resource } from '../../protocol/resource-types.ts';
import { resourcesToString } from '../../common/resources.ts';

/** Mesos' default `--min_allocatable_resources=cpus:0.01|mem:32`: an offer needs either. */
export interface MinOffer {
  cpus: number;
  memMb: number;
}

export const DEFAULT_MIN_OFFER: MinOffer = { cpus: 0.01, memMb: 32 };

/** Mesos' default `Filters.refuse_seconds`. */
export const DEFAULT_REFUSE_SECONDS = 5;

/** Longest filter honoured (Mesos caps at a year); larger values are clamped. */
export const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

/** Framework capability that lets a framework see agents with GPUs (Mesos' GPU_RESOURCES). */
export const GPU_CAPABILITY = 'GPU_RESOURCES';

/** Resources already in use on an agent: by a framework's tasks, or offered to it. */
export interface AgentAllocation {
  frameworkId: string;
  role: string;
  resources: Resource[];
  /** True when these resources are an outstanding offer (blocks a second offer to that framework there). */
  offered?: boolean;
}

/** What the allocator is told about an agent. */
export interface AllocatorAgent {
  id: string;
  hostname: string;
  /** Everything the agent has. */
  total: Resource[];
  /** Resources in use (tasks + outstanding offers) when the agent is added, per framework. */
  allocations?: AgentAllocation[];
  attributes?: Attribute[];
  /** Deactivated agents keep their resources accounted but get no offers. Default true. */
  active?: boolean;
}

/** What the allocator is told about a framework. */
export interface AllocatorFramework {
  id: string;
  /** Roles the framework is subscribed to (MULTI_ROLE); at least one. */
  roles: string[];
  /** Roles for which offers are suppressed (SUPPRESS), until REVIVE. */
  suppressedRoles?: Iterable<string>;
  /** Connected and not torn down. Default true. */
  active?: boolean;
  /** Mesos capability names, e.g. GPU_RESOURCES. */
  capabilities?: string[];
}

/** Refuse offers to `frameworkId` on `agentId` that are a subset of `resources`, until `expiresAtMs`. */
export interface OfferFilter {
  frameworkId: string;
  agentId: string;
  /** Free-pool form (no allocation info). */
  resources: Resource[];
  expiresAtMs: number;
}

/** One offer the master should make. */
export interface PlannedOffer {
  frameworkId: string;
  role: string;
  agentId: string;
  hostname: string;
  /** Tagged with allocation_info.role = role. */
  resources: Resource[];
}

export interface AllocationStats {
  /** Active agents with something free that the cycle looked at. */
  agentsConsidered: number;
  /** Active, not fully suppressed frameworks that could receive offers. */
  frameworksConsidered: number;
  /** (framework, agent) pairs passed over because of a filter. */
  filteredPairs: number;
  /** Agents whose free resources were below the minimum offer size. */
  belowMinimum: number;
}

export interface OfferPlan {
  readonly nowMs: number;
  readonly offers: PlannedOffer[];
  readonly stats: AllocationStats;
  describe(): string;
}

export function describeOffer(o: PlannedOffer): string {
  return `offer ${o.frameworkId}(${o.role}) on ${o.agentId}: ${resourcesToString(stripAllocation(o.resources))}`;
}

export function describeFilter(f: OfferFilter): string {
  return `filter ${f.frameworkId} on ${f.agentId} until ${f.expiresAtMs}: ${resourcesToString(f.resources)}`;
}

export function makePlan(nowMs: number, offers: PlannedOffer[], stats: AllocationStats): OfferPlan {
  return {
    nowMs,
    offers,
    stats,
    describe: () =>
      `plan at ${nowMs}: ${offers.length} offer(s); ${stats.agentsConsidered} agent(s) considered, ` +
      `${stats.frameworksConsidered} framework(s) eligible, ${stats.filteredPairs} filtered, ${stats.belowMinimum} below minimum`,
  };
}

function stripAllocation(rs: readonly Resource[]): Resource[] {
  return rs.map((r) => {
    if (r.allocation_info === undefined) return r;
    const c = { ...r };
    delete c.allocation_info;
    return c;
  });
}

/** Offers whose age reached the offer timeout (the master rescinds them). `offerTimeoutMs <= 0` means never. */
export function expiredOffers<T extends { createdAtMs: number }>(offers: Iterable<T>, nowMs: number, offerTimeoutMs: number): T[] {
  const out: T[] = [];
  if (!(offerTimeoutMs > 0)) return out;
  for (const o of offers) if (nowMs - o.createdAtMs >= offerTimeoutMs) out.push(o);
  return out;
}
