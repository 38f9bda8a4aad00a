/**
 * computeAllocation: the one-shot, snapshot-in / plan-out form of the
 * allocator (Nomad style). It builds an AllocatorCore from the snapshot and
 * runs one cycle; the input is not modified. Use AllocatorCore directly to
 * keep state across cycles.
 * No I/O here.
 */
import type { Random } from '../../common/random.ts';
import { AllocatorCore } from './core.ts';
import type { AllocatorAgent, AllocatorFramework, MinOffer, OfferFilter, OfferPlan } from './types.ts';

export interface AllocationInput {
  agents: AllocatorAgent[];
  frameworks: AllocatorFramework[];
  filters?: OfferFilter[];
  /** Missing roles weigh 1. */
  roleWeights?: Record<string, number>;
  /** Default Mesos' cpus:0.01|mem:32. */
  minOffer?: MinOffer;
  nowMs: number;
  /** Shuffles agent order; default a fixed seed. */
  random?: Random;
}

export function computeAllocation(input: AllocationInput): OfferPlan {
  const core = new AllocatorCore({ minOffer: input.minOffer, roleWeights: input.roleWeights, random: input.random });
  for (const a of input.agents) core.addAgent(a);
  for (const f of input.frameworks) core.addFramework(f);
  for (const f of input.filters ?? []) core.addFilter(f);
  return core.allocate(input.nowMs);
}
