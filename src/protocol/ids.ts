/**
 * Small constructors and comparisons for Mesos ID messages and status-update
 * uuids. Randomness comes in as a parameter (default: node:crypto), so
 * simulations can make uuids from a seed.
 */

import { randomBytes } from 'node:crypto';
import type { Random } from '../common/random.ts';
import type { AgentID, ExecutorID, FrameworkID, OfferID, TaskID } from './mesos-types.ts';

/** Bytes in a status-update uuid (Mesos: a 16-byte UUID). */
export const UUID_BYTES = 16;

export function frameworkId(value: string): FrameworkID {
  return { value };
}
export function agentId(value: string): AgentID {
  return { value };
}
export function taskId(value: string): TaskID {
  return { value };
}
export function offerId(value: string): OfferID {
  return { value };
}
export function executorId(value: string): ExecutorID {
  return { value };
}

/** Equality of two ID messages (either may be absent). */
export function sameId(a: { value: string } | undefined, b: { value: string } | undefined): boolean {
  return a !== undefined && b !== undefined && a.value === b.value;
}

/** A fresh status-update uuid: 16 random bytes as base64 (the JSON shape of `bytes`). */
export function newUuid(rng?: Random): string {
  if (rng === undefined) return randomBytes(UUID_BYTES).toString('base64');
  const bytes = Buffer.alloc(UUID_BYTES);
  for (let i = 0; i < UUID_BYTES; i++) bytes[i] = Math.floor(rng.next() * 256);
  return bytes.toString('base64');
}

/** A uuid (base64) as the hex string logs show; '-' for absent. */
export function uuidHex(uuid: string | undefined): string {
  return uuid === undefined ? '-' : Buffer.from(uuid, 'base64').toString('hex');
}

/** Whether two base64 uuids name the same bytes (tolerates padding differences). */
export function sameUuid(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a === b || Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));
}
