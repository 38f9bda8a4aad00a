/**
 * The allocator's public surface: the pure weighted-DRF AllocatorCore, the
 * one-shot computeAllocation, and their types. No I/O anywhere below here.
 */
export { AllocatorCore, type AllocatorOptions, type RecoverOutcome, type RoleShare } from './core.ts';
export { computeAllocation, type AllocationInput } from './compute.ts';
export { dominantShare, weightedShare } from './drf.ts';
export {
  DEFAULT_MIN_OFFER,
  DEFAULT_REFUSE_SECONDS,
  GPU_CAPABILITY,
  MAX_REFUSE_SECONDS,
  describeFilter,
  describeOffer,
  expiredOffers,
  type AgentAllocation,
  type AllocationStats,
  type AllocatorAgent,
  type AllocatorFramework,
  type MinOffer,
  type OfferFilter,
  type OfferPlan,
  type PlannedOffer,
} from './types.ts';
