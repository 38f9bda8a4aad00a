/**
 * What applying a command tells the outside: Marathon events for the
 * `/v2/events` stream and registry changes for the registry watch. Both are
 * produced while applying, so every replica produces the same ones in the same
 * order (the registry's revisions agree across replicas).
 */
import type { RegistryDelta } from '../../registry/types.ts';

type WithoutRevision<T> = T extends unknown ? Omit<T, 'revision'> : never;

/** A registry delta before the publisher gives it its revision. */
export type RegistryChange = WithoutRevision<RegistryDelta>;

/** One Marathon event (`eventType` and `timestamp` included), as JSON. */
export type MarathonEvent = { readonly eventType: string; readonly timestamp: string } & Record<string, unknown>;

export interface StateObserver {
  /** `index` is the Raft index of the command that produced the event. */
  event(e: MarathonEvent, index: number): void;
  registry(change: RegistryChange): void;
  /** The whole state was replaced from a snapshot (consumers rebuild). */
  restored(): void;
}

export const nullObserver: StateObserver = { event: () => undefined, registry: () => undefined, restored: () => undefined };
