/**
 * Dominant Resource Fairness arithmetic: a consumer's dominant share is the
 * largest fraction it holds of any cluster resource (cpus, mem, disk, gpus;
 * ports are not shared out by DRF, as in Mesos). Roles are ordered by
 * dominant share / weight, frameworks within a role by dominant share.
 * No I/O here.
 */
import type { ResourceVector } from '../../common/resources.ts';

export function dominantShare(alloc: ResourceVector, total: ResourceVector): number {
  let s = 0;
  if (total.cpus > 0) s = Math.max(s, alloc.cpus / total.cpus);
  if (total.memMb > 0) s = Math.max(s, alloc.memMb / total.memMb);
  if (total.diskMb > 0) s = Math.max(s, alloc.diskMb / total.diskMb);
  if (total.gpus > 0) s = Math.max(s, alloc.gpus / total.gpus);
  return s;
}

export function weightedShare(alloc: ResourceVector, total: ResourceVector, weight: number): number {
  return dominantShare(alloc, total) / weight;
}

/** Validates a role weight (positive and finite); the role weights map is checked once at the edge. */
export function isValidWeight(w: unknown): w is number {
  return typeof w === 'number' && Number.isFinite(w) && w > 0;
}
