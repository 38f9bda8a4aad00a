/**
 * Marathon's constraint operators, one function each, with Marathon's
 * semantics (mesosphere.mesos.Constraints): every operator compares the
 * offer's field value (see field-values.ts) with the values of the app's
 * placed instances or with the constraint's value.
 *
 *   UNIQUE        no placed instance has the offer's value
 *   CLUSTER v     the offer's value is v
 *   CLUSTER       the offer's value is that of the first placed instance (any, if none)
 *   GROUP_BY n    spread `instances` evenly over n values: a known value takes
 *                 up to ⌊instances/n⌋ (+1 while remainder lasts), a new value
 *                 is taken while fewer than n are in use
 *   GROUP_BY      (no value / 0) the offer's value is new, or is among the least used;
 *                 Marathon's current code divides by zero here, so we keep its
 *                 earlier (1.x) meaning
 *   LIKE re       the value matches re (whole string, like Java's `matches`)
 *   UNLIKE re     the value does not match re; an absent field passes
 *   MAX_PER n     fewer than n placed instances have the offer's value
 *   IS v          the value equals v (v a scalar: compared formatted to 3 decimals)
 * An absent field fails every operator but UNLIKE.
 *
 * Each check answers `undefined` (fits) or one line saying why not, which the
 * API shows. Pure; no I/O. Regexes are compiled once per distinct pattern.
 */

import type { AppPlacements } from './app-placements.ts';
import { formatScalar, placedFieldValue } from './field-values.ts';
import type { ConstraintTriple } from './types.ts';

export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS';

export const CONSTRAINT_OPERATORS: readonly ConstraintOperator[] = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'];

/** What one constraint check sees. */
export interface ConstraintContext {
  /** The offer's value of the constraint's field; undefined when the agent lacks it. */
  readonly offerValue: string | undefined;
  /** Where the offer is, for messages. */
  readonly hostname: string;
  readonly app: AppPlacements;
  /** The app's target instance count (GROUP_BY). */
  readonly instances: number;
}

/** `undefined` when the offer satisfies the constraint, else why not. */
export type ConstraintCheck = (c: ConstraintTriple, ctx: ConstraintContext) => string | undefined;

/** Upper bound on distinct LIKE/UNLIKE patterns kept compiled: apps are many, patterns few; a bound keeps a hostile API client from growing it without end. */
const MAX_CACHED_PATTERNS = 1024;
const patternCache = new Map<string, RegExp | null>();

function compile(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch {
      re = null;
    }
    if (patternCache.size >= MAX_CACHED_PATTERNS) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

const SCALAR_VALUE = /^[0-9]+(?:\.[0-9]+)?$/;

/** Marathon's `getIntValue`: `inf` is unbounded, a non-integer is the default. */
function intValue(text: string, fallback: number): number {
  if (text === 'inf') return Number.MAX_SAFE_INTEGER;
  return /^[+-]?\d+$/.test(text) ? Number(text) : fallback;
}

function name(c: ConstraintTriple): string {
  return c[2] === undefined ? `${c[0]}:${c[1]}` : `${c[0]}:${c[1]}:${c[2]}`;
}

function missing(c: ConstraintTriple, ctx: ConstraintContext): string {
  return `${name(c)}: ${ctx.hostname} has no ${c[0]}`;
}

const checkUnique: ConstraintCheck = (c, ctx) => {
  if (ctx.offerValue === undefined) return missing(c, ctx);
  const n = ctx.app.countsBy(c[0]).get(ctx.offerValue) ?? 0;
  return n === 0 ? undefined : `${name(c)}: ${n} instance(s) already on ${c[0]}=${ctx.offerValue}`;
};

const checkCluster: ConstraintCheck = (c, ctx) => {
  if (ctx.offerValue === undefined) return missing(c, ctx);
  const wanted = c[2] ?? '';
  if (wanted !== '') return ctx.offerValue === wanted ? undefined : `${name(c)}: ${c[0]}=${ctx.offerValue} is not ${wanted}`;
  const first = ctx.app.instances[0];
  if (first === undefined) return undefined;
  const anchor = placedFieldValue(first, c[0]);
  return anchor === ctx.offerValue ? undefined : `${name(c)}: instances are clustered on ${c[0]}=${anchor ?? '(none)'}, not ${ctx.offerValue}`;
};

const checkGroupBy: ConstraintCheck = (c, ctx) => {
  if (ctx.offerValue === undefined) return missing(c, ctx);
  const counts = ctx.app.countsBy(c[0]);
  const groups = Math.max(0, intValue(c[2] ?? '', 0));
  const inGroup = counts.get(ctx.offerValue);
  if (groups === 0) {
    if (inGroup === undefined) return undefined;
    let least = Number.MAX_SAFE_INTEGER;
    for (const n of counts.values()) least = Math.min(least, n);
    return inGroup <= least ? undefined : `${name(c)}: ${c[0]}=${ctx.offerValue} has ${inGroup} instance(s), more than the least used value (${least})`;
  }
  const perGroup = Math.floor(ctx.instances / groups);
  const remainder = ctx.instances % groups;
  let remainderConsumed = 0;
  for (const n of counts.values()) remainderConsumed += Math.max(0, n - perGroup);
  if (inGroup !== undefined) {
    if (inGroup < perGroup || (inGroup === perGroup && remainder - remainderConsumed > 0)) return undefined;
    return `${name(c)}: ${c[0]}=${ctx.offerValue} already has its share (${inGroup} of ${ctx.instances} over ${groups})`;
  }
  return counts.size < groups ? undefined : `${name(c)}: all ${groups} value(s) of ${c[0]} are in use, ${ctx.offerValue} would be one more`;
};

const checkLike: ConstraintCheck = (c, ctx) => {
  if (ctx.offerValue === undefined) return missing(c, ctx);
  const re = compile(c[2] ?? '');
  if (re === null || (c[2] ?? '') === '') return `${name(c)}: not a valid pattern`;
  return re.test(ctx.offerValue) ? undefined : `${name(c)}: ${c[0]}=${ctx.offerValue} does not match`;
};

const checkUnlike: ConstraintCheck = (c, ctx) => {
  if (ctx.offerValue === undefined) return undefined;
  const re = compile(c[2] ?? '');
  if (re === null || (c[2] ?? '') === '') return `${name(c)}: not a valid pattern`;
  return re.test(ctx.offerValue) ? `${name(c)}: ${c[0]}=${ctx.offerValue} matches` : undefined;
};

const checkMaxPer: ConstraintCheck = (c, ctx) => {
  if (ctx.offerValue === undefined) return missing(c, ctx);
  const max = intValue(c[2] ?? '', 0);
  const n = ctx.app.countsBy(c[0]).get(ctx.offerValue) ?? 0;
  return n < max ? undefined : `${name(c)}: ${n} instance(s) already on ${c[0]}=${ctx.offerValue}`;
};

const checkIs: ConstraintCheck = (c, ctx) => {
  if (ctx.offerValue === undefined) return missing(c, ctx);
  const raw = c[2] ?? '';
  const wanted = SCALAR_VALUE.test(raw) ? formatScalar(Number(raw)) : raw;
  return ctx.offerValue === wanted ? undefined : `${name(c)}: ${c[0]}=${ctx.offerValue} is not ${wanted}`;
};

export const CONSTRAINT_CHECKS: Readonly<Record<ConstraintOperator, ConstraintCheck>> = {
  UNIQUE: checkUnique,
  CLUSTER: checkCluster,
  GROUP_BY: checkGroupBy,
  LIKE: checkLike,
  UNLIKE: checkUnlike,
  MAX_PER: checkMaxPer,
  IS: checkIs,
};

export function isConstraintOperator(op: string): op is ConstraintOperator {
  return (CONSTRAINT_OPERATORS as readonly string[]).includes(op);
}

/** A constraint's canonical text, `field:OP[:value]`. */
export function constraintName(c: ConstraintTriple): string {
  return name(c);
}
