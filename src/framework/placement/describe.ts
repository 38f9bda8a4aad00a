/**
 * One stable line per placement outcome, for logs, transcripts and the API's
 * human-readable "why not", plus `explainConstraints`: every constraint of a
 * request against one offer, passed or failed, for an operator asking "why
 * not on this agent?".
 *
 * Pure; no I/O.
 */

import { resourcesToString } from '../../common/resources.ts';
import type { Offer } from '../../protocol/mesos-types.ts';
import { AppPlacements } from './app-placements.ts';
import { CONSTRAINT_CHECKS, constraintName, isConstraintOperator } from './constraints.ts';
import { offerFieldValue } from './field-values.ts';
import type { ConstraintTriple, InstanceRequest, Launch, NoMatch, OfferRejection, PlacedInstance, PlacementResult } from './types.ts';

export function describeLaunch(l: Launch): string {
  const ports = l.hostPorts.length > 0 ? ` ports=${l.hostPorts.join(',')}` : '';
  return `launch ${l.instanceId} on ${l.agentId} (${l.hostname}) offer ${l.offerId}: ${resourcesToString(l.resources)}${ports}`;
}

export function describeRejection(r: OfferRejection): string {
  const constraints = r.failedConstraints.length > 0 ? ` [${r.failedConstraints.map((c) => c.describe).join('; ')}]` : '';
  return `${r.agentId}: ${r.reasons.join(',')}${constraints}`;
}

export function describeNoMatch(m: NoMatch): string {
  if (m.rejections.length === 0) return `unplaced ${m.instanceId}: no offers`;
  return `unplaced ${m.instanceId}: ${m.rejections.map(describeRejection).join(' | ')}`;
}

/** The whole round: launches, then unplaced instances, then the unused offers, then a count line. */
export function describePlacement(p: PlacementResult): string[] {
  const lines = p.launches.map(describeLaunch);
  for (const m of p.unplaced.values()) lines.push(describeNoMatch(m));
  if (p.unusedOfferIds.length > 0) lines.push(`unused offers: ${p.unusedOfferIds.join(', ')}`);
  const s = p.summary;
  lines.push(`placement at ${s.nowMs}: ${s.launched} launched, ${p.unplaced.size} unplaced, ${s.offers} offer(s), ${p.unusedOfferIds.length} unused`);
  return lines;
}

export interface ConstraintVerdict {
  readonly constraint: ConstraintTriple;
  readonly ok: boolean;
  /** `field:OP[:value]: ok (field=value)` or why not. */
  readonly describe: string;
}

/**
 * Every constraint of `request` checked against `offer`, given the app's
 * placed instances: the API's per-constraint explanation.
 */
export function explainConstraints(request: InstanceRequest, offer: Offer, placed: readonly PlacedInstance[]): ConstraintVerdict[] {
  const app = new AppPlacements(request.appId);
  for (const p of placed) if (p.appId === request.appId) app.add(p);
  const instances = request.instances ?? app.size + 1;
  return request.constraints.map((constraint) => {
    const op = constraint[1];
    const offerValue = offerFieldValue(offer, constraint[0]);
    if (!isConstraintOperator(op)) return { constraint, ok: false, describe: `${constraintName(constraint)}: unknown operator` };
    const why = CONSTRAINT_CHECKS[op](constraint, { offerValue, hostname: offer.hostname, app, instances });
    return why === undefined
      ? { constraint, ok: true, describe: `${constraintName(constraint)}: ok (${constraint[0]}=${offerValue ?? '(absent)'})` }
      : { constraint, ok: false, describe: why };
  });
}
