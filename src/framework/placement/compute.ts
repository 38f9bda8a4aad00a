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
 * Cost: requests × offers × checkers, each check O(1) (app-placements.ts
 * keeps counts per constraint field). Requests of one app identical in
 * everything placement reads (same resources, ports, constraints, roles)
 * that met no offer are not re-run: nothing that could change the answer
 * changes within the round once a request fails, because failures add nothing.
 */

import { AppPlacements } from './app-placements.ts';
import { acceptedRolesOf, buildPlacementPipeline, type Candidate, type PlacementChecker, type Refusal } from './pipeline.ts';
import { pickDynamicPorts } from './ports.ts';
import { OfferSlot } from './offer-slot.ts';
import type {
  AppRoundStats,
  ConstraintExplanation,
  InstanceRequest,
  Launch,
  NoMatch,
  NoOfferMatchReason,
  OfferRejection,
  PlacementInput,
  PlacementResult,
} from './types.ts';
import type { Resource } from '../../protocol/mesos-types.ts';

/** Runs one round. See the file comment for the algorithm. */
export function computePlacement(input: PlacementInput, pipeline: readonly PlacementChecker[] = buildPlacementPipeline()): PlacementResult {
  const slots = input.offers.map((o) => new OfferSlot(o));
  const apps = indexApps(input);
  // GROUP_BY's instance count when a request does not say: fixed for the round, before any launch.
  const defaultInstances = new Map([...apps].map(([appId, app]) => [appId, app.size + countRequests(input, appId)]));
  const launches: Launch[] = [];
  const unplaced = new Map<string, NoMatch>();
  const failedShapes = new Map<string, readonly OfferRejection[]>();
  const usedBy = new Map<string, Set<string>>(); // appId → offerIds launched on

  for (const request of input.requests) {
    const app = apps.get(request.appId)!;
    const shape = shapeKey(request);
    const known = failedShapes.get(shape);
    if (known !== undefined) {
      unplaced.set(request.instanceId, { appId: request.appId, instanceId: request.instanceId, rejections: known });
      continue;
    }
    const acceptedRoles = acceptedRolesOf(request);
    const instances = request.instances ?? defaultInstances.get(request.appId)!;
    const candidate = (slot: OfferSlot): Candidate => ({ request, slot, app, acceptedRoles, instances });
    // Search with each pipeline run stopping at its first refusal; an offer
    // with none of the app's instances on its agent cannot be beaten (ties go
    // to offer order), so the search stops there.
    let best: OfferSlot | undefined;
    for (const slot of slots) {
      if (runPipeline(pipeline, candidate(slot), true).length > 0) continue;
      if (best === undefined || app.onAgent(slot.agentId) < app.onAgent(best.agentId)) best = slot;
      if (app.onAgent(best.agentId) === 0) break;
    }
    if (best === undefined) {
      // Nothing fits: now every checker runs against every offer, for the reasons.
      const rejections = slots.map((slot) => rejection(slot, runPipeline(pipeline, candidate(slot), false)));
      failedShapes.set(shape, rejections);
      unplaced.set(request.instanceId, { appId: request.appId, instanceId: request.instanceId, rejections });
      continue;
    }
    launches.push(launchOn(best, request, acceptedRoles, input));
    best.launches++;
    app.add({
      appId: request.appId,
      instanceId: request.instanceId,
      agentId: best.agentId,
      hostname: best.offer.hostname,
      attributes: best.offer.attributes ?? [],
      region: best.offer.domain?.fault_domain?.region.name,
      zone: best.offer.domain?.fault_domain?.zone.name,
    });
    let used = usedBy.get(request.appId);
    if (used === undefined) usedBy.set(request.appId, (used = new Set()));
    used.add(best.offerId);
    // A launch changes the placed set and the offer: earlier failures may not hold for this app any more.
    for (const key of failedShapes.keys()) if (key.startsWith(`${request.appId}\u0000`)) failedShapes.delete(key);
  }

  return {
    launches,
    unplaced,
    unusedOfferIds: slots.filter((s) => s.launches === 0).map((s) => s.offerId),
    summary: {
      nowMs: input.nowMs,
      offers: slots.length,
      requests: input.requests.length,
      launched: launches.length,
      apps: roundStats(input.requests, usedBy, unplaced),
    },
  };
}

function indexApps(input: PlacementInput): Map<string, AppPlacements> {
  const apps = new Map<string, AppPlacements>();
  for (const r of input.requests) if (!apps.has(r.appId)) apps.set(r.appId, new AppPlacements(r.appId));
  for (const p of input.placed) apps.get(p.appId)?.add(p);
  return apps;
}

function countRequests(input: PlacementInput, appId: string): number {
  let n = 0;
  for (const r of input.requests) if (r.appId === appId) n++;
  return n;
}

/** Everything placement reads of a request but its instance id. */
function shapeKey(r: InstanceRequest): string {
  return [r.appId, JSON.stringify([r.cpus, r.memMb, r.diskMb, r.portCount, r.requiredPorts ?? null, r.constraints, r.role, r.acceptedResourceRoles, r.instances ?? null])].join('\u0000');
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
  const reasons: NoOfferMatchReason[] = [];
  const failedConstraints: ConstraintExplanation[] = [];
  for (const r of refusals) {
    if (!reasons.includes(r.reason)) reasons.push(r.reason);
    if (r.constraints !== undefined) failedConstraints.push(...r.constraints);
  }
  return { offerId: slot.offerId, agentId: slot.agentId, hostname: slot.offer.hostname, reasons, failedConstraints };
}

function launchOn(slot: OfferSlot, r: InstanceRequest, accepted: ReadonlySet<string>, input: PlacementInput): Launch {
  const resources: Resource[] = [];
  if (r.cpus > 0) resources.push(...slot.takeScalar('cpus', r.cpus, accepted));
  if (r.memMb > 0) resources.push(...slot.takeScalar('mem', r.memMb, accepted));
  if (r.diskMb > 0) resources.push(...slot.takeScalar('disk', r.diskMb, accepted));
  let hostPorts: number[] = [];
  if (r.requiredPorts !== undefined && r.requiredPorts.length > 0) {
    hostPorts = [...r.requiredPorts];
  } else if (r.portCount > 0) {
    const picked = pickDynamicPorts(slot.freePortRanges(accepted), r.portCount, input.random);
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
      .map((rej) => ({ agentId: rej.agentId, offerId: rej.offerId, reasons: rej.reasons }));
    out.push({ appId, usedOffers: used.size, unusedOffers });
  }
  return out;
}
