/**
 * `computeSpreadKillOrder`: which instances to kill first on scale-down so
 * that the app's GROUP_BY constraints stay as even as they can (Marathon's
 * `selectInstancesToKill`): repeatedly take an instance from the currently
 * largest group, summed over the app's GROUP_BY fields, ties in input order.
 * The answer is a preference for the deployment planner (`killPriority`),
 * which still kills not-ready instances first and breaks remaining ties by
 * killSelection. An app without GROUP_BY gets no preference (empty).
 *
 * Pure; no I/O. O(instances² × fields), for the few hundred instances an app
 * scales down at once.
 */

import { placedFieldValue } from './field-values.ts';
import type { ConstraintTriple, PlacedInstance } from './types.ts';

export function computeSpreadKillOrder(constraints: readonly ConstraintTriple[], instances: readonly PlacedInstance[]): string[] {
  const fields = [...new Set(constraints.filter((c) => c[1] === 'GROUP_BY').map((c) => c[0]))];
  if (fields.length === 0) return [];
  const counts = fields.map((field) => {
    const m = new Map<string | undefined, number>();
    for (const p of instances) {
      const v = placedFieldValue(p, field);
      m.set(v, (m.get(v) ?? 0) + 1);
    }
    return m;
  });
  const values = instances.map((p) => fields.map((field) => placedFieldValue(p, field)));
  const left = instances.map((_, k) => k);
  const order: string[] = [];
  while (left.length > 0) {
    let best = 0;
    let bestScore = -1;
    for (let j = 0; j < left.length; j++) {
      let score = 0;
      for (let f = 0; f < fields.length; f++) score += counts[f].get(values[left[j]][f])!;
      if (score > bestScore) {
        best = j;
        bestScore = score;
      }
    }
    const k = left.splice(best, 1)[0];
    for (let f = 0; f < fields.length; f++) counts[f].set(values[k][f], counts[f].get(values[k][f])! - 1);
    order.push(instances[k].instanceId);
  }
  return order;
}
