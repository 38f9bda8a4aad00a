/**
 * Placement: offers × waiting instances → launches, with the reasons for
 * every instance left waiting. See types.ts for the contract and compute.ts
 * for the algorithm.
 */
export * from './types.ts';
export { computePlacement } from './compute.ts';
export { buildPlacementPipeline, acceptedRolesOf, type PlacementChecker, type Candidate, type Refusal } from './pipeline.ts';
export { OfferStatsAccumulator, funnelReason, declinedOfferSteps } from './offer-stats.ts';
export { describeLaunch, describeNoMatch, describePlacement, describeRejection, explainConstraints, type ConstraintVerdict } from './describe.ts';
export { CONSTRAINT_OPERATORS, isConstraintOperator, constraintName, type ConstraintOperator } from './constraints.ts';
export { attributeValueString, formatScalar } from './field-values.ts';
