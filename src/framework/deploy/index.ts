/**
 * The deployment planner: (targets per version, observed instances, upgrade
 * strategy) → the next launches and kills. See types.ts for the contract and
 * planner.ts for the rules.
 */
export * from './types.ts';
export { computeDeploymentStep, computePlannerView, isReady, killOrder, type PlannerView } from './planner.ts';
export { computeCapacity, maxLiveOf, minReadyOf, type CapacityBounds } from './capacity.ts';
export { computeProgress } from './progress.ts';
