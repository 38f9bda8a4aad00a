/**
 * The typed form of Marathon's placement constraints (`[field, operator, value?]`).
 * Types only; parsing and validation live in constraints.ts, evaluation against
 * offers in placement/. No I/O here.
 */

/** Marathon's operators, exactly as spelled in app JSON. */
export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS';

export const CONSTRAINT_OPERATORS: readonly ConstraintOperator[] = [
  'UNIQUE',
  'CLUSTER',
  'GROUP_BY',
  'LIKE',
  'UNLIKE',
  'MAX_PER',
  'IS',
];

/**
 * `field` is `hostname`, `@hostname`, `@region`, `@zone` or an agent attribute name.
 * Values stay the strings the user wrote, so rendering gives back the same triple.
 */
export type Constraint =
  /** At most one instance per distinct value of `field`. */
  | { readonly operator: 'UNIQUE'; readonly field: string }
  /** All instances on agents whose `field` equals `value` (or, without value, on one common value). */
  | { readonly operator: 'CLUSTER'; readonly field: string; readonly value?: string }
  /** Spread evenly over the values of `field`; `groups` is the expected number of values, if given. */
  | { readonly operator: 'GROUP_BY'; readonly field: string; readonly value?: string; readonly groups?: number }
  /** `field` matches (LIKE) or does not match (UNLIKE) the anchored regex `value`. */
  | { readonly operator: 'LIKE' | 'UNLIKE'; readonly field: string; readonly value: string }
  /** At most `max` instances per distinct value of `field`. */
  | { readonly operator: 'MAX_PER'; readonly field: string; readonly value: string; readonly max: number }
  /** `field` equals `value` (text or scalar attribute compared as Mesos prints it); no value means "". */
  | { readonly operator: 'IS'; readonly field: string; readonly value?: string };
