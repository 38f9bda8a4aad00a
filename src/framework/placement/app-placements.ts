/**
 * One app's placed instances as the constraint checkers read them: the list
 * (CLUSTER without a value follows the first one) and, per constraint field,
 * how many instances carry each value. The counts are built lazily per field
 * and kept up to date as the round adds launches, so a check is a map lookup,
 * not a scan of every instance (1,000-instance apps are placed in one round).
 *
 * Invariant: for every field indexed, the counts sum to `instances.length`
 * (instances lacking the field count under the `undefined` key, as Marathon's
 * `groupBy` over `Option` does).
 */

import { placedFieldValue } from './field-values.ts';
import type { PlacedInstance } from './types.ts';

export class AppPlacements {
  readonly appId: string;
  private readonly list: PlacedInstance[] = [];
  private readonly byField = new Map<string, Map<string | undefined, number>>();
  private readonly byAgent = new Map<string, number>();

  constructor(appId: string) {
    this.appId = appId;
  }

  get instances(): readonly PlacedInstance[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  add(p: PlacedInstance): void {
    this.list.push(p);
    this.byAgent.set(p.agentId, (this.byAgent.get(p.agentId) ?? 0) + 1);
    for (const [field, counts] of this.byField) {
      const v = placedFieldValue(p, field);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }

  /** Instances of the app on one agent (the default spread ranks by this). */
  onAgent(agentId: string): number {
    return this.byAgent.get(agentId) ?? 0;
  }

  /** Instance count per value of `field` (the `undefined` key: instances lacking it). */
  countsBy(field: string): ReadonlyMap<string | undefined, number> {
    let counts = this.byField.get(field);
    if (counts === undefined) {
      counts = new Map();
      for (const p of this.list) {
        const v = placedFieldValue(p, field);
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      this.byField.set(field, counts);
    }
    return counts;
  }
}
