/**
 * `computePlacement`: one round of offers × waiting instances → launches.
 *
 *   for each request, in the order given:
 *     run the pipeline against every offer (what is left of it)
 *     among the offers that pass, rank: the agent running the fewest
 *       instances of the app first (default spread), then offer order
 *     take cpus, mem, disk and host ports from the best; record the launch
 *       as a placed instance, so later requests' constraints see it
 *     none passes → the request is unplaced, with every offer's refusals
 *
 * Deterministic for a given input (ports use the injected `random`, only for
 * the offer chosen). Never mutates its input. No I/O, no clock.
 *
 * Cost: at most requests × offers × checkers, each check O(1)
 * (app-placements.ts keeps counts per constraint field); the search stops
 * at the first offer on an agent free of the app, and a checker run stops
 * at its first refusal (all checkers run only for a request nothing fits,
 * to give every reason). A request identical to one of its app that met no
 * offer (same resources, ports, constraints, roles, config version) is not
 * searched again until the app launches something: other apps' launches
 * only shrink offers, which cannot turn a refusal into a fit.
 */

import { AppPlacements } from './app-placements.ts';
import { acceptedRolesOf, buildPlacementPipeline, type Candidate, type PlacementChecker, type Refusal } from './pipeline.ts';
import { pickDynamicPorts } from './ports.ts';
import { OfferSlot } from './offer-slot.ts';
import { REASON_FUNNEL } from './types.ts';
import type {
  AppRoundStats,
  ConstraintExplanation,
  InstanceRequest,
  Launch,
  NoMatch,
  PlacedInstance,
  NoOfferMatchReason,
  OfferRejection,
  PlacementInput,
  PlacementResult,
} from './types.ts';
import type { Random } from '../../common/random.ts';
import type { Resource } from '../../protocol/mesos-types.ts';

/** Runs one round. See the file comment for the algorithm. */
export function computePlacement(input: PlacementInput, pipeline: readonly PlacementChecker[] = buildPlacementPipeline()): PlacementResult {
  const round = new Round(input, pipeline);
  for (const request of input.requests) round.place(request);
  return round.result();
}

/** The state of one round: what is left of each offer, who is placed where, what failed. */
class Round {
  private readonly slots: OfferSlot[];
  /** Per app: its groups by config version (`*` for requests without one). */
  private readonly groups = new Map<string, Map<string, AppPlacements>>();
  /** Placed instances per app: the input's, then this round's launches. */
  private readonly placedByApp = new Map<string, PlacedInstance[]>();
  /** GROUP_BY's instance count when a request does not say: placed + waiting, fixed before any launch. */
  private readonly defaultInstances = new Map<string, number>();
  private readonly launches: Launch[] = [];
  private readonly unplaced = new Map<string, NoMatch>();
  /** Rejections of request shapes that met no offer (see shapeKey). */
  private readonly failedShapes = new Map<string, readonly OfferRejection[]>();
  /** appId → offer ids it launched on. */
  private readonly usedBy = new Map<string, Set<string>>();

  constructor(
    private readonly input: PlacementInput,
    private readonly pipeline: readonly PlacementChecker[],
  ) {
    this.slots = input.offers.map((o) => new OfferSlot(o));
    for (const p of input.placed) this.placedOf(p.appId).push(p);
    for (const r of input.requests) this.defaultInstances.set(r.appId, (this.defaultInstances.get(r.appId) ?? this.placedOf(r.appId).length) + 1);
  }

  place(request: InstanceRequest): void {
    const shape = shapeKey(request);
    const known = this.failedShapes.get(shape);
    if (known !== undefined) {
      this.unplaced.set(request.instanceId, { appId: request.appId, instanceId: request.instanceId, rejections: known });
      return;
    }
    const app = this.groupOf(request);
    const acceptedRoles = acceptedRolesOf(request);
    const instances = request.instances ?? this.defaultInstances.get(request.appId)!;
    const { nowMs } = this.input;
    const drainingMs = this.input.drainingMs ?? 0;
    const candidate = (slot: OfferSlot): Candidate => ({ request, slot, app, acceptedRoles, instances, nowMs, drainingMs });
    // Each pipeline run stops at its first refusal; an offer on an agent with
    // none of the app's instances cannot be beaten (ties go to offer order).
    let best: OfferSlot | undefined;
    for (const slot of this.slots) {
      if (runPipeline(this.pipeline, candidate(slot), true).length > 0) continue;
      if (best === undefined || app.onAgent(slot.agentId) < app.onAgent(best.agentId)) best = slot;
      if (app.onAgent(best.agentId) === 0) break;
    }
    if (best === undefined) {
      // Nothing fits: now every checker runs against every offer, for the reasons.
      const rejections = this.slots.map((slot) => rejection(slot, runPipeline(this.pipeline, candidate(slot), false)));
      this.failedShapes.set(shape, rejections);
      this.unplaced.set(request.instanceId, { appId: request.appId, instanceId: request.instanceId, rejections });
      return;
    }
    this.launches.push(launchOn(best, request, acceptedRoles, this.input.random));
    best.launches++;
    this.addLaunched(request, best);
  }

  result(): PlacementResult {
    return {
      launches: this.launches,
      unplaced: this.unplaced,
      unusedOfferIds: this.slots.filter((s) => s.launches === 0).map((s) => s.offerId),
      summary: {
        nowMs: this.input.nowMs,
        offers: this.slots.length,
        requests: this.input.requests.length,
        launched: this.launches.length,
        apps: roundStats(this.input.requests, this.usedBy, this.unplaced),
      },
    };
  }

  private placedOf(appId: string): PlacedInstance[] {
    let list = this.placedByApp.get(appId);
    if (list === undefined) this.placedByApp.set(appId, (list = []));
    return list;
  }

  /**
   * The placed instances a request's constraints and spread see: its app's,
   * of its config version (see InstanceRequest.configVersion). Built on first
   * use and kept up to date by addLaunched.
   */
  private groupOf(r: InstanceRequest): AppPlacements {
    let byVersion = this.groups.get(r.appId);
    if (byVersion === undefined) this.groups.set(r.appId, (byVersion = new Map()));
    const key = r.configVersion === undefined ? '*' : `=${r.configVersion}`;
    let g = byVersion.get(key);
    if (g === undefined) {
      g = new AppPlacements(r.appId, r.configVersion);
      for (const p of this.placedOf(r.appId)) if (sameConfig(r.configVersion, p)) g.add(p);
      byVersion.set(key, g);
    }
    return g;
  }

  private addLaunched(request: InstanceRequest, slot: OfferSlot): void {
    const p: PlacedInstance = {
      appId: request.appId,
      instanceId: request.instanceId,
      agentId: slot.agentId,
      hostname: slot.offer.hostname,
      attributes: slot.offer.attributes ?? [],
      region: slot.offer.domain?.fault_domain?.region.name,
      zone: slot.offer.domain?.fault_domain?.zone.name,
      configVersion: request.configVersion,
    };
    this.placedOf(p.appId).push(p);
    for (const g of this.groups.get(p.appId)?.values() ?? []) if (sameConfig(g.configVersion, p)) g.add(p);
    let used = this.usedBy.get(p.appId);
    if (used === undefined) this.usedBy.set(p.appId, (used = new Set()));
    used.add(slot.offerId);
    // The app's placed set changed: its earlier failures may not hold any more.
    for (const key of this.failedShapes.keys()) if (key.startsWith(`${p.appId}\u0000`)) this.failedShapes.delete(key);
  }
}

/** Whether a placed instance counts for requests of `configVersion`: either side unversioned, or equal. */
function sameConfig(configVersion: string | undefined, p: PlacedInstance): boolean {
  return configVersion === undefined || p.configVersion === undefined || p.configVersion === configVersion;
}

function shapeKey(r: InstanceRequest): string {
  return [r.appId, JSON.stringify([r.cpus, r.memMb, r.diskMb, r.portCount, r.requiredPorts ?? null, r.constraints, r.role, r.acceptedResourceRoles, r.instances ?? null, r.configVersion ?? null])].join('\u0000');
}

const NO_REFUSALS: readonly Refusal[] = [];

/** The refusals of `c`, all of them, or only the first with `firstOnly`. */
function runPipeline(pipeline: readonly PlacementChecker[], c: Candidate, firstOnly: boolean): readonly Refusal[] {
  let out: Refusal[] | undefined;
  for (const checker of pipeline) {
    const refusal = checker.check(c);
    if (refusal === undefined) continue;
    if (firstOnly) return [refusal];
    (out ??= []).push(refusal);
  }
  return out ?? NO_REFUSALS;
}

function rejection(slot: OfferSlot, refusals: readonly Refusal[]): OfferRejection {
  const seen = new Set<NoOfferMatchReason>();
  const failedConstraints: ConstraintExplanation[] = [];
  for (const r of refusals) {
    seen.add(r.reason);
    for (const also of r.alsoReasons ?? []) seen.add(also);
    if (r.constraints !== undefined) failedConstraints.push(...r.constraints);
  }
  const reasons = REASON_FUNNEL.filter((r) => seen.has(r));
  return { offerId: slot.offerId, agentId: slot.agentId, hostname: slot.offer.hostname, reasons, failedConstraints };
}

function launchOn(slot: OfferSlot, r: InstanceRequest, accepted: ReadonlySet<string>, random: Random): Launch {
  const resources: Resource[] = [];
  if (r.cpus > 0) resources.push(...slot.takeScalar('cpus', r.cpus, accepted));
  if (r.memMb > 0) resources.push(...slot.takeScalar('mem', r.memMb, accepted));
  if (r.diskMb > 0) resources.push(...slot.takeScalar('disk', r.diskMb, accepted));
  let hostPorts: number[] = [];
  if (r.requiredPorts !== undefined && r.requiredPorts.length > 0) {
    hostPorts = [...r.requiredPorts];
  } else if (r.portCount > 0) {
    const picked = pickDynamicPorts(slot.freePortLists(accepted), r.portCount, random);
    if (picked === undefined) throw new Error(`invariant: offer ${slot.offerId} passed the ports check but has fewer than ${r.portCount} free ports`);
    hostPorts = picked;
  }
  if (hostPorts.length > 0) resources.push(...slot.takePorts(hostPorts, accepted));
  return {
    offerId: slot.offerId,
    agentId: slot.agentId,
    hostname: slot.offer.hostname,
    appId: r.appId,
    instanceId: r.instanceId,
    resources,
    hostPorts,
  };
}

/**
 * Per app, Marathon's view of the round: offers it launched on are used;
 * when it still has an instance waiting, every offer that refused that
 * instance is unused, with its reasons (the first waiting instance speaks
 * for the app, as Marathon's launcher matches one offer per app at a time).
 */
function roundStats(requests: readonly InstanceRequest[], usedBy: ReadonlyMap<string, ReadonlySet<string>>, unplaced: ReadonlyMap<string, NoMatch>): AppRoundStats[] {
  const firstWaiting = new Map<string, NoMatch | undefined>(); // insertion order = order of first request
  for (const r of requests) {
    if (firstWaiting.get(r.appId) !== undefined) continue;
    firstWaiting.set(r.appId, unplaced.get(r.instanceId));
  }
  const out: AppRoundStats[] = [];
  for (const [appId, waiting] of firstWaiting) {
    const used = usedBy.get(appId) ?? new Set<string>();
    const unusedOffers = (waiting?.rejections ?? [])
      .filter((rej) => !used.has(rej.offerId))
      .map((rej) => ({ agentId: rej.agentId, offerId: rej.offerId, hostname: rej.hostname, reasons: rej.reasons, failedConstraints: rej.failedConstraints.map((c) => c.describe) }));
    out.push({ appId, usedOffers: used.size, unusedOffers });
  }
  return out;
}
