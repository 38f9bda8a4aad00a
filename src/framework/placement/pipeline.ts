/**
 * The placement pipeline: one-concern checkers, each deciding whether one
 * offer (what is left of it) can take one instance, and saying why not as a
 * Marathon `NoOfferMatchReason`. `buildPlacementPipeline()` reads top to
 * bottom as the algorithm. Every checker runs (not only up to the first
 * refusal), so the API can show all the reasons; the summary counts only the
 * first in Marathon's funnel order.
 *
 * Pure; no I/O.
 */

import type { AppPlacements } from './app-placements.ts';
import { CONSTRAINT_CHECKS, CONSTRAINT_OPERATORS, type ConstraintOperator } from './constraints.ts';
import { offerFieldValue } from './field-values.ts';
import type { OfferSlot } from './offer-slot.ts';
import type { ConstraintExplanation, InstanceRequest, NoOfferMatchReason } from './types.ts';
import { toMilli } from '../../common/resources.ts';

/** One request against one offer. */
export interface Candidate {
  readonly request: InstanceRequest;
  readonly slot: OfferSlot;
  readonly app: AppPlacements;
  /** Resource roles the request may use (Marathon's acceptedResourceRoles, defaulted). */
  readonly acceptedRoles: ReadonlySet<string>;
  /** The app's target instance count (GROUP_BY). */
  readonly instances: number;
}

export interface Refusal {
  readonly reason: NoOfferMatchReason;
  readonly constraints?: readonly ConstraintExplanation[];
}

export interface PlacementChecker {
  readonly name: string;
  check(c: Candidate): Refusal | undefined;
}

/** The checkers in the order they run. */
export function buildPlacementPipeline(): readonly PlacementChecker[] {
  return [
    roleChecker,
    ...CONSTRAINT_OPERATORS.map(constraintChecker),
    scalarChecker('cpus', 'InsufficientCpus', (r) => r.cpus),
    scalarChecker('mem', 'InsufficientMemory', (r) => r.memMb),
    scalarChecker('disk', 'InsufficientDisk', (r) => r.diskMb),
    portsChecker,
  ];
}

/** The roles a request may take resources from: its acceptedResourceRoles, or its role and unreserved. */
export function acceptedRolesOf(r: InstanceRequest): ReadonlySet<string> {
  return new Set(r.acceptedResourceRoles.length > 0 ? r.acceptedResourceRoles : [r.role, '*']);
}

/**
 * The offer must be allocated to the app's role (a multi-role framework gets
 * offers per role; Marathon only matches an instance against its role's
 * offers) and hold some resource of an accepted role.
 */
const roleChecker: PlacementChecker = {
  name: 'role',
  check(c) {
    if (c.slot.allocationRole !== undefined && c.slot.allocationRole !== c.request.role) return { reason: 'UnfulfilledRole' };
    return c.slot.hasAcceptedRole(c.acceptedRoles) ? undefined : { reason: 'UnfulfilledRole' };
  },
};

function constraintChecker(op: ConstraintOperator): PlacementChecker {
  const check = CONSTRAINT_CHECKS[op];
  return {
    name: `constraint ${op}`,
    check(c) {
      let failed: ConstraintExplanation[] | undefined;
      for (const constraint of c.request.constraints) {
        if (constraint[1] !== op) continue;
        const why = check(constraint, {
          offerValue: offerFieldValue(c.slot.offer, constraint[0]),
          hostname: c.slot.offer.hostname,
          app: c.app,
          instances: c.instances,
        });
        if (why !== undefined) (failed ??= []).push({ constraint, describe: why });
      }
      return failed === undefined ? undefined : { reason: 'UnfulfilledConstraint', constraints: failed };
    },
  };
}

function scalarChecker(resource: string, reason: NoOfferMatchReason, wanted: (r: InstanceRequest) => number): PlacementChecker {
  return {
    name: resource,
    check(c) {
      const need = toMilli(wanted(c.request));
      if (need <= 0) return undefined;
      return c.slot.scalarAvailableMilli(resource, c.acceptedRoles) >= need ? undefined : { reason };
    },
  };
}

const portsChecker: PlacementChecker = {
  name: 'ports',
  check(c) {
    const r = c.request;
    if (r.requiredPorts !== undefined && r.requiredPorts.length > 0) {
      return c.slot.hasPorts(r.requiredPorts, c.acceptedRoles) ? undefined : { reason: 'InsufficientPorts' };
    }
    if (r.portCount <= 0) return undefined;
    return c.slot.freePortCount(c.acceptedRoles) >= r.portCount ? undefined : { reason: 'InsufficientPorts' };
  },
};
