/**
 * Placement: offers × instances waiting for an offer → launches, and for every
 * instance left waiting, *why* no offer fitted it, as data the API shows in
 * `/v2/queue` (Marathon's `processedOffersSummary`).
 *
 * This file is types only: no I/O, no logic. The contract:
 *  - `computePlacement(input)` is pure, synchronous and deterministic for a
 *    given input (time comes in as `nowMs`, randomness for host-port picking
 *    as `random`); it never mutates its input.
 *  - Requests are placed in the order given; a later request sees the earlier
 *    launches of the same call as placed instances, so UNIQUE / MAX_PER /
 *    GROUP_BY hold within one round; several instances may land on one offer
 *    while its resources last.
 *  - Every offer ends up either used by ≥ 1 launch or in `unusedOfferIds`
 *    (the shell declines those).
 */

import type { Random } from '../../common/random.ts';
import type { Attribute, Offer, Resource } from '../../protocol/mesos-types.ts';

/**
 * Marathon's `NoOfferMatchReason` names, as `/v2/queue` prints them. Only the
 * ones cygnet can produce are checked for; the rest exist so the JSON lists
 * every step of Marathon's funnel.
 */
export type NoOfferMatchReason =
  | 'UnfulfilledRole'
  | 'UnfulfilledConstraint'
  | 'NoCorrespondingReservationFound'
  | 'AgentMaintenance'
  | 'InsufficientCpus'
  | 'InsufficientMemory'
  | 'InsufficientDisk'
  | 'InsufficientGpus'
  | 'InsufficientPorts'
  | 'DeclinedScarceResources';

/**
 * Marathon's reason funnel: when an offer fails for several reasons, only the
 * first in this order is counted in the summary.
 */
export const REASON_FUNNEL: readonly NoOfferMatchReason[] = [
  'UnfulfilledRole',
  'UnfulfilledConstraint',
  'NoCorrespondingReservationFound',
  'AgentMaintenance',
  'InsufficientCpus',
  'InsufficientMemory',
  'InsufficientDisk',
  'InsufficientGpus',
  'InsufficientPorts',
  'DeclinedScarceResources',
];

/** A Marathon constraint triple `[field, operator, value?]`, already validated by the app model. */
export type ConstraintTriple = readonly [string, string, string?];

/** One instance waiting for an offer. */
export interface InstanceRequest {
  readonly appId: string;
  readonly instanceId: string;
  readonly cpus: number;
  readonly memMb: number;
  readonly diskMb: number;
  /** Host ports needed (portDefinitions.length); each port 0 or not, one host port each. */
  readonly portCount: number;
  /** requirePorts=true: exactly these host ports (length = portCount). */
  readonly requiredPorts?: readonly number[];
  readonly constraints: readonly ConstraintTriple[];
  /** The role the app launches under (Marathon's `role`, default `*`). */
  readonly role: string;
  /**
   * Marathon semantics: the roles whose resources may be used; `*` means
   * unreserved. Empty means the default: `[role]` plus `*` — i.e. unreserved
   * resources and resources reserved for the app's role.
   */
  readonly acceptedResourceRoles: readonly string[];
  /**
   * The app's target instance count: GROUP_BY with a value spreads this many
   * over the groups (Marathon reads `runSpec.instances`). Default: the app's
   * placed instances plus its requests in this call.
   */
  readonly instances?: number;
}

/** An instance already running (or launched earlier in this round) on an agent. */
export interface PlacedInstance {
  readonly appId: string;
  readonly instanceId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly attributes: readonly Attribute[];
  /** The agent's fault domain, for `@region` / `@zone` constraints. */
  readonly region?: string;
  readonly zone?: string;
}

export interface PlacementInput {
  readonly offers: readonly Offer[];
  readonly requests: readonly InstanceRequest[];
  /**
   * The live instances constraints count, of the apps in `requests` (others
   * are ignored). Marathon counts only instances of the app's current
   * configuration, so that a new instance may land beside an old one that is
   * about to be replaced: the shell chooses which to pass.
   */
  readonly placed: readonly PlacedInstance[];
  readonly nowMs: number;
  /** Picks host ports from offered ranges (port 0 → any free port). */
  readonly random: Random;
}

export interface Launch {
  readonly offerId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly appId: string;
  readonly instanceId: string;
  /**
   * The exact Mesos resources to put in the TaskInfo: cpus, mem, disk (when >
   * 0) and ports (when any), each with the role / reservations /
   * allocation_info of the offered resource it was taken from.
   */
  readonly resources: readonly Resource[];
  /** Host ports, in portDefinitions order. */
  readonly hostPorts: readonly number[];
}

/** Why one constraint rejected one offer, for the API. */
export interface ConstraintExplanation {
  readonly constraint: ConstraintTriple;
  /** One stable line, e.g. `hostname:UNIQUE rejects a1.host: 1 instance of /app already there`. */
  readonly describe: string;
}

/** Why one offer did not fit one instance. */
export interface OfferRejection {
  readonly offerId: string;
  readonly agentId: string;
  readonly hostname: string;
  /** Every checker that said no (not only the first), in pipeline order. */
  readonly reasons: readonly NoOfferMatchReason[];
  /** The constraints that failed (empty unless `UnfulfilledConstraint` is among the reasons). */
  readonly failedConstraints: readonly ConstraintExplanation[];
}

/** An instance no offer fitted in this round. */
export interface NoMatch {
  readonly appId: string;
  readonly instanceId: string;
  /** One entry per offer considered, in offer order. Empty when there were no offers. */
  readonly rejections: readonly OfferRejection[];
}

/**
 * What one app saw of one round, in Marathon's terms: an app *processes* an
 * offer when it launched on it (used) or when it still had an instance
 * waiting that the offer did not fit (unused, with the reasons). An offer that
 * fitted but was passed over for a better one is not counted.
 */
export interface AppRoundStats {
  readonly appId: string;
  readonly usedOffers: number;
  /** One per unused offer processed: the agent and the reasons it did not fit. */
  readonly unusedOffers: readonly { readonly agentId: string; readonly offerId: string; readonly reasons: readonly NoOfferMatchReason[] }[];
}

export interface PlacementSummary {
  readonly nowMs: number;
  readonly offers: number;
  readonly requests: number;
  readonly launched: number;
  /** Per app (in order of first request), to feed an `OfferStatsAccumulator`. */
  readonly apps: readonly AppRoundStats[];
}

export interface PlacementResult {
  readonly launches: readonly Launch[];
  readonly unplaced: ReadonlyMap<string, NoMatch>;
  readonly unusedOfferIds: readonly string[];
  readonly summary: PlacementSummary;
}

/** One row of Marathon's `rejectSummaryLastOffers` / `rejectSummaryLaunchAttempt`. */
export interface DeclinedOfferStep {
  readonly reason: NoOfferMatchReason;
  readonly declined: number;
  readonly processed: number;
}

/** Marathon's `processedOffersSummary` in `/v2/queue`, field for field. */
export interface ProcessedOffersSummary {
  readonly processedOffersCount: number;
  readonly unusedOffersCount: number;
  /** ISO-8601 (`2026-01-01T00:00:00.000Z`); absent when never. */
  readonly lastUnusedOfferAt?: string;
  readonly lastUsedOfferAt?: string;
  readonly rejectSummaryLastOffers: readonly DeclinedOfferStep[];
  readonly rejectSummaryLaunchAttempt: readonly DeclinedOfferStep[];
}
